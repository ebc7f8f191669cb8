import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, describe, expect, test } from 'vitest';
import { createClient } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { Outcome } from '../../src/index.js';
import { LmdbStore } from '../../src/store/index.js';
import { observationEvents } from '../helpers/events.js';
import { eventually, health } from '../helpers/health.js';
import { freePort, startChildServer, stopChild } from './child.js';

// A real full disk: a small tmpfs (needs root, as in CI). Elsewhere the test is skipped, saying why.
const mountPoint = mkdtempSync(join(tmpdir(), 'learnloop-full-disk-'));
const whyNot = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs: ${(err as Error).message}`;
  }
})();
if (whyNot !== undefined) console.warn(`full-disk test skipped: ${whyNot}`);

afterAll(() => {
  if (whyNot === undefined) execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the tmpfs to its last byte with a file (dd stops at ENOSPC). */
function fill(path: string): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // dd exits non-zero when the disk is full: that is the point.
  }
}

const run = (i: number) => ({
  runId: `run-${i}`,
  templateId: `t${i % 3}@v1`,
  taskClass: `class-${i % 4}`,
  repo: `org/repo-${i % 5}`,
  outcome: i % 2 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL,
  durationSeconds: 10 + (i % 50),
});

describe.skipIf(whyNot !== undefined)('a full disk (2 MB tmpfs)', () => {
  test('the failing write is RESOURCE_EXHAUSTED, reads answer, health is NOT_SERVING; once space returns it serves again and nothing acknowledged is lost', async () => {
    const db = join(mountPoint, 'db');
    const server = await startChildServer(db);
    const client = createClient(server.addr, { deadlineMs: 10_000 });
    const acknowledged = new Set<string>();
    try {
      expect(await health(server.addr)).toBe('SERVING');
      let failure: ServiceError | undefined;
      let i = 0;
      for (; i < 100_000 && failure === undefined; i++) {
        try {
          const res = await client.observe(run(i));
          expect(res.applied).toBe(true);
          acknowledged.add(`run-${i}`);
        } catch (err) {
          failure = err as ServiceError;
        }
      }
      expect(failure, 'the disk never filled').toBeDefined();
      expect(acknowledged.size).toBeGreaterThan(10);
      expect(failure!.code, failure!.message).toBe(status.RESOURCE_EXHAUSTED);
      expect(failure!.details, server.stderr()).toMatch(/^disk full: /);
      // The process is up, reads answer, and health tells load balancers to look elsewhere.
      expect(server.child.exitCode).toBeNull();
      expect((await client.listTemplates()).templates.length).toBeGreaterThan(0);
      await client.getScores();
      await eventually('health NOT_SERVING while writes fail', 10_000, async () => (await health(server.addr)) === 'NOT_SERVING');

      // Space returns: the server recovers by itself, without a restart.
      execFileSync('mount', ['-o', 'remount,size=64m', mountPoint], { stdio: 'pipe' });
      await eventually('health SERVING once space returns', 10_000, async () => (await health(server.addr)) === 'SERVING');
      const failed = i - 1;
      const retried = await client.observe(run(failed));
      expect(retried.applied || retried.duplicate).toBe(true);
      acknowledged.add(`run-${failed}`);
      // Every acknowledged run is recorded: a retry of one answers duplicate.
      const again = await client.observe(run(0));
      expect(again.duplicate).toBe(true);
      const next = await client.observe(run(i));
      expect(next.applied).toBe(true);
      acknowledged.add(`run-${i}`);
      expect(server.child.exitCode).toBeNull();
    } finally {
      client.close();
      await stopChild(server);
    }
    // Offline: every acknowledged run is in the log exactly once, and nothing else.
    const store = await LmdbStore.open(db, { policy: loadConfig({}, { db }).policy });
    try {
      const seen = new Map<string, number>();
      for (const e of await observationEvents(store)) seen.set(e.content.runId, (seen.get(e.content.runId) ?? 0) + 1);
      for (const id of acknowledged) expect(seen.get(id), id).toBe(1);
      expect(seen.size).toBe(acknowledged.size);
      expect(await store.derivedSnapshot()).toBeDefined();
    } finally {
      await store.close();
    }
  }, 120_000);

  test("the dashboard's snapshot on a full disk: its write fails on close and leaves no file behind; the folder opens with every run", async () => {
    execFileSync('mount', ['-o', 'remount,size=64m', mountPoint], { stdio: 'pipe' });
    const db = join(mountPoint, 'db-dashboard');
    const filler = join(mountPoint, 'filler');
    const httpPort = await freePort();
    const server = await startChildServer(db, ['--http-port', String(httpPort)]);
    const client = createClient(server.addr, { deadlineMs: 10_000 });
    try {
      for (let i = 0; i < 40; i++) expect((await client.observe(run(i))).applied).toBe(true);
      // A page builds the fold, so closing the server writes a snapshot of it.
      expect((await fetch(`http://127.0.0.1:${httpPort}/api/v1/overview`)).status).toBe(200);
      fill(filler);
    } finally {
      client.close();
      await stopChild(server);
    }
    expect(readdirSync(db).filter((f) => f.endsWith('.tmp') || f.endsWith('.snapshot')), server.stderr()).toEqual([]);
    rmSync(filler);
    const store = await LmdbStore.open(db, { policy: loadConfig({}, { db }).policy });
    try {
      expect((await observationEvents(store)).length).toBe(40);
    } finally {
      await store.close();
    }
    // With space back, the next close writes it.
    const again = await startChildServer(db, ['--http-port', String(httpPort)]);
    try {
      expect((await fetch(`http://127.0.0.1:${httpPort}/api/v1/overview`)).status).toBe(200);
    } finally {
      await stopChild(again);
    }
    expect(readdirSync(db).filter((f) => f.endsWith('.snapshot'))).toEqual(['derived-dashboard.snapshot']);
  }, 120_000);
});
