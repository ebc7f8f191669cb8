/**
 * A rebuild killed with SIGKILL at several points (30%, 50%, 70% and 90% of a rebuild's time), and a rebuild on a full disk: the folder is left
 * exactly as it was (one LMDB transaction, committed whole or not at all), it opens, `serve` starts
 * on it, and a later rebuild gives the same state.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seedObservations } from '../../bench/load/seed.js';
import { createClient } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { Outcome } from '../../src/index.js';
import { LmdbStore } from '../../src/store/index.js';
import { health } from '../helpers/health.js';
import { tmpDir } from '../helpers/tmp.js';
import { spawnLearnLoop, startChildServer, stopChild } from './child.js';

/** Enough runs that a rebuild takes a while (about a second or more here), over many segments. */
const RUNS = 60_000;
const seeded = mkdtempSync(join(tmpdir(), 'learnloop-rebuild-seed-'));

beforeAll(async () => {
  await seedObservations(seeded, RUNS, (i) => ({ templateId: `t${i % 8}@v1`, taskClass: `class-${i % 40}`, repo: `org/repo-${Math.floor(i / 40) % 50}` }));
}, 120_000);
afterAll(() => rmSync(seeded, { recursive: true, force: true }));

/** The log's head and a digest of every derived record, read by a fresh process's view of the folder. */
async function state(db: string): Promise<{ head: number; derived: string }> {
  const store = await LmdbStore.open(db, { policy: loadConfig({}, { db }).policy, onPolicyChange: 'adopt' });
  try {
    const derived = createHash('sha256').update(JSON.stringify(await store.derivedSnapshot())).digest('hex');
    return { head: await store.head(), derived };
  } finally {
    await store.close();
  }
}

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
}

/** `learnloop rebuild --db db`, killed with SIGKILL after `killAfterMs` if given. */
async function rebuild(db: string, killAfterMs?: number): Promise<Ended> {
  const started = Date.now();
  const child = spawnLearnLoop(['rebuild', '--db', db]);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  return { code, signal, stderr, ms: Date.now() - started };
}

describe('a rebuild killed with SIGKILL', () => {
  test('at several points leaves the folder as it was; it opens, serve starts, and a rebuild gives the same state', async () => {
    const db = tmpDir();
    cpSync(seeded, db, { recursive: true });
    const before = await state(db);
    expect(before.head).toBeGreaterThan(RUNS);
    const full = await rebuild(db);
    expect(full.code, full.stderr).toBe(0);
    expect(await state(db)).toEqual(before);
    // Kill points are fractions of the shortest rebuild seen so far: a busy machine makes rebuilds
    // vary several-fold, and one that finished before its kill proves nothing, so try again, shorter.
    let shortest = full.ms;
    const killedAt: number[] = [];
    const fractions = [0.3, 0.5, 0.7, 0.9];
    for (let attempt = 0; attempt < 12 && killedAt.length < 4; attempt++) {
      const fraction = fractions[killedAt.length]!;
      const ended = await rebuild(db, Math.round(fraction * shortest));
      if (ended.signal === 'SIGKILL') killedAt.push(fraction);
      else {
        expect(ended.code, ended.stderr).toBe(0);
        shortest = Math.min(shortest, ended.ms);
      }
      expect(await state(db)).toEqual(before);
    }
    expect(killedAt, `rebuilds took ${full.ms} ms at first, ${shortest} ms at the shortest`).toEqual(fractions);

    const server = await startChildServer(db);
    const client = createClient(server.addr, { deadlineMs: 10_000 });
    try {
      expect(await health(server.addr)).toBe('SERVING');
      const res = await client.observe({ runId: 'after-kills', templateId: 't1@v1', taskClass: 'class-1', repo: 'org/repo-1', outcome: Outcome.OUTCOME_PASS, durationSeconds: 5 });
      expect(res.applied).toBe(true);
    } finally {
      client.close();
      await stopChild(server);
    }
    const live = await state(db);
    expect(live.head).toBe(before.head + 1);
    const again = await rebuild(db);
    expect(again.code, again.stderr).toBe(0);
    expect(await state(db)).toEqual(live);
  }, 240_000);
});

// A real full disk for the rebuild: a tmpfs just larger than the folder (needs root, as in CI).
const mountPoint = mkdtempSync(join(tmpdir(), 'learnloop-rebuild-full-'));
const whyNot = process.getuid?.() !== 0 ? 'not root: cannot mount a tmpfs' : undefined;
if (whyNot !== undefined) console.warn(`rebuild on a full disk skipped: ${whyNot}`);
afterAll(() => {
  try {
    execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(whyNot !== undefined)('a rebuild on a full disk', () => {
  test('fails with one clear line (RESOURCE_EXHAUSTED … (LL_STORAGE_FULL), exit 1, no stack), leaves the folder as it was, and succeeds once there is space', async () => {
    const used = Number(execFileSync('du', ['-sk', seeded]).toString().split('\t')[0]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${used + 512}k`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    const db = join(mountPoint, 'db');
    cpSync(seeded, db, { recursive: true });
    const before = await state(db);
    const full = await rebuild(db);
    expect(full.code, full.stderr).toBe(1);
    const lines = full.stderr.trim().split('\n');
    expect(lines, full.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^learnloop: RESOURCE_EXHAUSTED: disk full: .*\(LL_STORAGE_FULL\)$/);
    expect(await state(db)).toEqual(before);
    execFileSync('mount', ['-o', 'remount,size=256m', mountPoint], { stdio: 'pipe' });
    const ok = await rebuild(db);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await state(db)).toEqual(before);
  }, 240_000);
});
