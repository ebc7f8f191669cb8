/** Reads wait for the writes in flight when they arrive, not for later ones, and not for ever. */
import { describe, expect, test } from 'vitest';
import { WritesFirst } from '../../src/server/call.js';

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WritesFirst', () => {
  test('a read starts at once with no write in flight, and after the writes in flight when it arrived', async () => {
    const gate = new WritesFirst();
    expect(await settled(gate.quiet())).toBe(true);
    const first = deferred();
    const w1 = gate.write(() => first.promise);
    const read = gate.quiet();
    // A write that starts after the read arrived does not hold it back.
    const later = deferred();
    const w2 = gate.write(() => later.promise);
    expect(await settled(read)).toBe(false);
    first.resolve();
    await w1;
    expect(await settled(read)).toBe(true);
    later.resolve();
    await w2;
  });

  test('a failed write releases reads too, and the write still fails for its caller', async () => {
    const gate = new WritesFirst();
    const w = gate.write(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('disk full');
    });
    const read = gate.quiet();
    await expect(w).rejects.toThrow('disk full');
    expect(await settled(read)).toBe(true);
  });

  test('a write that never answers holds reads back for at most about 100 ms', async () => {
    const gate = new WritesFirst();
    void gate.write(() => new Promise(() => undefined));
    const started = Date.now();
    await gate.quiet();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(2000);
  });
});
