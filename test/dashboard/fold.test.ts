/**
 * Incremental builds: a dashboard built by folding the log in pieces, its date moving forward
 * between them, is byte for byte the dashboard one fold of the whole log gives; a date that moves
 * back, or past a decision a piece left out, folds the log again.
 *
 * The snapshot beside the log: a fold restored from it and caught up gives the same bytes; a
 * restarted server answers its first page from the last model (marked stale) and reads only the
 * events after the snapshot; a snapshot that is corrupt, of another format or policy, or not of this
 * log is ignored; a failed write harms nothing.
 */
import { fc, test } from '@fast-check/vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { LogFold, RowTallies } from '../../src/dashboard/fold.js';
import { groupBy, metricsOf } from '../../src/reports/index.js';
import { reportData } from '../../src/service/refinement-queue.js';
import { buildDashboard, type Folds } from '../../src/dashboard/model.js';
import { dashboardJson, startDashboard } from '../../src/dashboard/server.js';
import { encodeSnapshot, readSnapshot } from '../../src/dashboard/snapshot.js';
import { learnLoopSource, type DashboardSource } from '../../src/dashboard/source.js';
import type { LmdbStore } from '../../src/store/index.js';
import { sourceUpTo } from '../../bench/dashboard/capped.js';
import { RULES } from '../reports/fixture-log.js';
import { AS_OF, DECISIONS_FROM, dashboardFixture } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'learnloop-dash-fold-'));
let store: LmdbStore;
let source: DashboardSource;
let head: number;
/** The whole log folded once, at the fixture's date. */
let whole: string;

beforeAll(async () => {
  const log = await dashboardFixture(join(dir, 'db'));
  store = log.store;
  source = learnLoopSource(compose(store, { limits: DEFAULT_LIMITS }, () => AS_OF)).source;
  head = await source.head();
  whole = dashboardJson(await buildDashboard(source, { rules: RULES, asOfMs: AS_OF }));
}, 120_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe('incremental dashboard builds', () => {
  test.prop(
    [
      // Heads the log is cut at (builds in between), and the dashboard's date at each, ending at the fixture's.
      fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { maxLength: 5 }),
      fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 5, maxLength: 5 }),
      fc.integer({ min: 1, max: 700 }),
    ],
    { numRuns: 12 },
  )('folding the log in any pieces gives the dashboard one fold gives', async (cuts, daysBack, page) => {
    const folds: Folds = { page };
    const heads = cuts.map((c) => 1 + (c % head)).sort((a, b) => a - b);
    for (const [i, h] of heads.entries()) {
      // Dates move forward: from weeks before the fixture's date towards it.
      const asOfMs = Math.min(AS_OF, DECISIONS_FROM + (i + 1) * 7 * DAY - daysBack[i]! * DAY);
      await buildDashboard(sourceUpTo(source, h), { rules: RULES, asOfMs }, folds);
    }
    const m = await buildDashboard(source, { rules: RULES, asOfMs: AS_OF }, folds);
    expect(m.head).toBe(head);
    expect(dashboardJson(m)).toBe(whole);
  });

  test.prop([fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 700 })], { numRuns: 8 })(
    'refreshes at one date (the views kept between builds: change points, trend windows, failures, lift) each give the dashboard a fresh build of the log so far gives',
    async (cuts, page) => {
      const folds: Folds = { page };
      for (const h of [...cuts.map((c) => 1 + (c % head)).sort((a, b) => a - b), head]) {
        const upTo = sourceUpTo(source, h);
        const refreshed = await buildDashboard(upTo, { rules: RULES, asOfMs: AS_OF }, folds);
        expect(dashboardJson(refreshed)).toBe(dashboardJson(await buildDashboard(upTo, { rules: RULES, asOfMs: AS_OF })));
      }
    },
  );

  test('the tallies kept as rows arrive are metricsOf the same rows, per template, task class and repository', async () => {
    const { rows } = await reportData(store);
    const t = new RowTallies();
    for (const r of rows) t.add(r);
    expect(t.all.metrics()).toEqual(metricsOf(rows));
    for (const [id, rs] of groupBy(rows, (r) => r.templateId)) expect(t.template(id), id).toEqual(metricsOf(rs));
    const byClass = t.byTaskClass();
    expect(byClass.map(([c]) => c)).toEqual(groupBy(rows, (r) => r.taskClass).map(([c]) => c));
    for (const [c, m] of byClass) {
      const expected = groupBy(rows.filter((r) => (r.taskClass || '(none)') === c), (r) => r.templateId);
      expect([...m.entries()]).toEqual(expected.map(([id, rs]) => [id, metricsOf(rs)]));
    }
    const pairs = t.busiestPairs(3);
    expect(pairs).toHaveLength(3);
    const sizes = new Map(groupBy(rows, (r) => `${r.taskClass}\u0000${r.repo}`).map(([k, rs]) => [k, rs.length]));
    const cut = Math.min(...pairs.map(([k]) => sizes.get(k)!));
    expect([...sizes.values()].filter((n) => n > cut).length).toBeLessThan(3);
  });

  test('a build after k new events folds k of them', async () => {
    const folds: Folds = {};
    await buildDashboard(sourceUpTo(source, head - 25), { rules: RULES, asOfMs: AS_OF }, folds);
    const m = await buildDashboard(source, { rules: RULES, asOfMs: AS_OF }, folds);
    expect(m.eventsFolded).toBe(25);
    expect(dashboardJson(m)).toBe(whole);
  });

  test('an earlier date, or one past a decision the fold left out, folds the log again', async () => {
    const folds: Folds = {};
    await buildDashboard(source, { rules: RULES, asOfMs: AS_OF }, folds);
    const earlier = await buildDashboard(source, { rules: RULES, asOfMs: AS_OF - 7 * DAY }, folds);
    expect(earlier.eventsFolded).toBe(head);
    expect(dashboardJson(earlier)).toBe(dashboardJson(await buildDashboard(source, { rules: RULES, asOfMs: AS_OF - 7 * DAY })));
    // The fold at the earlier date left the last week's decisions out; the fixture's date passes them.
    const later = await buildDashboard(source, { rules: RULES, asOfMs: AS_OF }, folds);
    expect(later.eventsFolded).toBe(head);
    expect(dashboardJson(later)).toBe(whole);
    const fold = new LogFold(source.policy, AS_OF);
    expect(fold.moveTo(AS_OF - 1)).toBe(false);
  });
});

/** `source` with its snapshot kept in memory, counting the events it reads. */
function withSlot(from: DashboardSource, slot: { seq: number; body: Uint8Array } | undefined = undefined) {
  const s = { slot, read: 0, writes: 0, failWrites: false };
  const wrapped: DashboardSource = {
    ...from,
    eventPage: async (fromSeq, limit) => {
      const page = await from.eventPage(fromSeq, limit);
      s.read += page.length;
      return page;
    },
    readSnapshot: async () => s.slot,
    writeSnapshot: async (seq, body) => {
      if (s.failWrites) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      const pieces: Uint8Array[] = [];
      if (body instanceof Uint8Array) pieces.push(body);
      else for await (const p of body) pieces.push(p);
      const whole = Buffer.concat(pieces);
      s.writes++;
      s.slot = { seq, body: whole };
    },
  };
  return { s, source: wrapped };
}

describe('the dashboard snapshot', () => {
  test.prop([fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 700 }), fc.boolean()], { numRuns: 12 })(
    'a snapshot taken at any head and date, restored (its row columns decoded at once or when first read) and caught up, gives the dashboard one fold of the whole log gives',
    async (cut, daysBack, page, readLater) => {
      const h = 1 + (cut % head);
      const asOfMs = Math.max(DECISIONS_FROM, AS_OF - daysBack * DAY);
      const folds: Folds = { page };
      const model = await buildDashboard(sourceUpTo(source, h), { rules: RULES, asOfMs }, folds);
      const { s, source: slotted } = withSlot(source, await encodeSnapshot(source.policy, folds.current!, model));
      const snap = await readSnapshot(slotted);
      expect(snap?.seq).toBe(h);
      expect(dashboardJson(snap!.model)).toBe(dashboardJson(model));
      const again: Folds = { page, restore: async () => LogFold.restore(source.policy, await snap!.fold(readLater ? LogFold.readsLater : undefined)) };
      const m = await buildDashboard(slotted, { rules: RULES, asOfMs: AS_OF }, again);
      // Read from the snapshot on, unless the date moved past a decision the snapshot's fold left out.
      if (m.eventsFolded !== head) expect(s.read).toBe(head - h + 1);
      expect(dashboardJson(m)).toBe(whole);
    },
  );

  test('a snapshot that is corrupt, of another format, version or policy, or not of this log is ignored', async () => {
    const folds: Folds = {};
    const model = await buildDashboard(sourceUpTo(source, head - 10), { rules: RULES, asOfMs: AS_OF }, folds);
    const good = await encodeSnapshot(source.policy, folds.current!, model);
    expect(await readSnapshot(withSlot(source, good).source)).toBeDefined();
    const b = Buffer.from(good.body);
    const end = 4 + b.readUInt32LE(0);
    const stored = (patch: Record<string, unknown>) => {
      const head = serialize({ ...(deserialize(b.subarray(4, end)) as object), ...patch });
      const length = Buffer.alloc(4);
      length.writeUInt32LE(head.length, 0);
      return { seq: good.seq, body: Buffer.concat([length, head, b.subarray(end)]) };
    };
    for (const slot of [
      { seq: good.seq, body: good.body.subarray(0, 100) },
      { seq: good.seq, body: new Uint8Array([1, 2, 3]) },
      stored({ format: 0 }),
      stored({ version: '0.0.0' }),
      stored({ policy: JSON.stringify({ ...source.policy, partialReward: 0.25 }) }),
      // Another log of the same length (its last event logged at another time), or a snapshot ahead of the log.
      stored({ atMs: 1 }),
      { seq: head + 1, body: good.body },
    ]) {
      expect(await readSnapshot(withSlot(source, slot).source)).toBeUndefined();
    }
    // A fold part that does not decode: the first page still has the model; the build folds the log afresh.
    const broken = Buffer.from(b);
    broken.fill(0xff, end + 4, end + 40);
    const cut = withSlot(source, { seq: good.seq, body: broken }).source;
    const snap = await readSnapshot(cut);
    expect(dashboardJson(snap!.model)).toBe(dashboardJson(model));
    const m = await buildDashboard(cut, { rules: RULES, asOfMs: AS_OF }, { restore: async () => LogFold.restore(source.policy, await snap!.fold()) });
    expect(m.eventsFolded).toBe(head);
    expect(dashboardJson(m)).toBe(whole);
  });

  test('a restarted server answers from the last model, marked stale, reads only the events after the snapshot, and writes snapshots it may fail to write', async () => {
    const { s, source: slotted } = withSlot(sourceUpTo(source, head - 25));
    const base = { rules: RULES, host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF, warm: false };
    const first = await startDashboard({ ...base, source: slotted });
    const before = await (await fetch(`${first.url}/api/v1/dashboard`)).text();
    await first.close();
    expect(s.writes).toBe(1);
    expect(s.slot?.seq).toBe(head - 25);

    // The log grew by 25 events while the server was down; the disk is full.
    const later = withSlot(source, s.slot);
    later.s.failWrites = true;
    const second = await startDashboard({ ...base, source: later.source });
    const res = await fetch(`${second.url}/api/v1/dashboard`);
    expect(res.headers.get('x-learnloop-stale')).toBe('true');
    expect(await res.text()).toBe(before);
    await expect.poll(async () => (await fetch(`${second.url}/api/v1/dashboard`)).headers.get('x-learnloop-stale')).toBe('false');
    const fresh = await second.model();
    expect(fresh.eventsFolded).toBe(25);
    expect(dashboardJson(fresh)).toBe(whole);
    // The snapshot write at close fails; the server closes all the same and the old snapshot stays.
    await second.close();
    expect(later.s.slot?.seq).toBe(head - 25);
  });
});
