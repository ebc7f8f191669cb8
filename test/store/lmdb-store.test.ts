/** What only the LMDB adapter does: folder format, schema versions, several processes on one folder. The rest is test/store/contract.ts. */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { FOLDER_FORMAT, LmdbStore, UnusableStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { obs } from './contract.js';

const policy: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };

async function openLoop(dir: string, p: PolicyConfig = policy) {
  const store = await LmdbStore.open(dir, { policy: p, noSync: true });
  let t = 1_700_000_000_000;
  return { store, ll: compose(store, { limits: DEFAULT_LIMITS }, () => (t += 1000)).learnloop };
}

/** Makes the store's nth write of a stats record throw (a fault inside a write transaction); returns the undo. */
function failingPut(store: LmdbStore, nth: number, message: string): () => void {
  const segments = (store as unknown as { dbs: { segments: { put: (...a: unknown[]) => unknown } } }).dbs.segments;
  const put = segments.put;
  let calls = 0;
  segments.put = function (this: unknown, ...args: unknown[]) {
    if (++calls === nth) throw new Error(message);
    return put.apply(this, args);
  };
  return () => {
    segments.put = put;
  };
}

describe('LMDB store', () => {
  test('a derived snapshot is a file beside the environment: a failed write leaves no part of it, the log writing and the store healthy', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await store.saveSnapshot('dashboard', 1, new Uint8Array([1, 2, 3]));
    // Where the snapshot goes is taken by a directory: the write fails as a full disk's would, at the rename.
    rmSync(join(dir, 'derived-dashboard.snapshot'));
    mkdirSync(join(dir, 'derived-dashboard.snapshot'));
    await expect(store.saveSnapshot('dashboard', 2, new Uint8Array(1000))).rejects.toThrow();
    expect(await store.loadSnapshot('dashboard')).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await store.healthProblem()).toBeUndefined();
    await ll.observe(obs('2', 't', 'fail'));
    expect(await store.head()).toBe(3);
    await store.close();
  });

  test('a stored value from an unknown schema version is refused, not misread', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await store.close();
    const raw = open({ path: dir });
    await raw.openDB('templates', {}).put('t', { v: 99, templateId: 't' });
    // An event too (events are read without a copy: eventPage, events()).
    await raw.openDB('events', { keyEncoding: 'uint32', sharedStructuresKey: 0 }).put(100, { v: 99, type: 'template', seq: 100 });
    await raw.close();
    const again = await LmdbStore.open(dir, { policy, noSync: true });
    await expect(again.template('t')).rejects.toThrow(/schema version 99/);
    await expect(again.eventPage(1, 200)).rejects.toThrow(/stored event has unknown schema version 99/);
    await expect((async () => { for await (const _ of again.events(1)); })()).rejects.toThrow(/schema version 99/);
    expect((await again.eventPage(1, 1))[0]).not.toHaveProperty('v');
    await again.close();
  });

  test('a folder whose name has a dot (learnloop.db, data.v2) is a folder too, made or already there', async () => {
    // lmdb-js takes a path with an extension for a data file: it wrote learnloop.db as a file (which
    // every later command refused as "not a folder"), and failed on such a folder that existed.
    for (const name of ['learnloop.db', 'data.v2']) {
      for (const made of [false, true]) {
        const parent = tmpDir();
        const dir = join(parent, name);
        if (made) mkdirSync(dir);
        const { store, ll } = await openLoop(dir);
        await ll.observe(obs('1', 't', 'pass'));
        const head = await store.head();
        await store.close();
        expect(readdirSync(dir).sort()).toEqual(['data.mdb', 'lock.mdb']);
        expect(readdirSync(parent)).toEqual([name]);
        const again = await openLoop(dir);
        expect(await again.store.head()).toBe(head);
        await again.store.close();
      }
    }
  });

  test('a folder says its format; a later format is refused at open as an unusable store (exit 2, not INTERNAL), naming both', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await store.rebuild();
    await store.close();
    const raw = open({ path: dir });
    expect(raw.openDB('meta', {}).get('format')).toBe(FOLDER_FORMAT);
    await raw.openDB('meta', {}).put('format', FOLDER_FORMAT + 1);
    await raw.close();
    const err = await LmdbStore.open(dir, { policy, noSync: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnusableStore);
    expect((err as Error).message).toContain(`written by a newer learnloop (folder format ${FOLDER_FORMAT + 1}; this one reads up to ${FOLDER_FORMAT})`);
  });

  test("read caches follow other processes' writes: templates, evidence and the template list", async () => {
    const dir = tmpDir();
    const a = await openLoop(dir);
    const b = await openLoop(dir);
    const ctx = { taskClass: 'bug-fix', repo: 'org/app' };
    // lmdb-js reads from a snapshot it renews on the next event-loop turn, as another process would.
    const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 5));
    await a.ll.observe(obs('1', 't@v1', 'pass'));
    await nextTurn();
    expect((await b.ll.listTemplates()).map((t) => t.templateId)).toEqual(['t@v1']);
    expect((await b.store.armEvidence(['t@v1'], ctx))[0]!.evidence.global.trials).toBe(1);
    await a.ll.registerTemplate({ templateId: 'u@v1', parentTemplateId: 't@v1', status: 'candidate', description: '' });
    await a.ll.observe(obs('2', 't@v1', 'fail'));
    await nextTurn();
    expect((await b.ll.listTemplates()).map((t) => [t.templateId, t.status])).toEqual([['t@v1', 'candidate'], ['u@v1', 'candidate']]);
    const [u] = await b.store.armEvidence(['u@v1'], ctx);
    expect(u!.parent?.evidence.global.trials).toBe(2);
    // A write planned on a stale snapshot re-plans: b has not seen run 3, and must not apply it twice.
    await a.ll.observe(obs('3', 't@v1', 'pass'));
    expect((await b.ll.observe(obs('3', 't@v1', 'pass'))).duplicate).toBe(true);
    await a.store.close();
    await b.store.close();
  });

  test('ids at their length limit in multi-byte UTF-8 fit every key: applied once, found, rebuilt', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    const euro = '€'.repeat(DEFAULT_LIMITS.maxIdLength); // 768 bytes
    const emoji = '😀'.repeat((DEFAULT_LIMITS.maxIdLength * 3) / 4); // 192 characters, 768 bytes: the byte limit
    const wide = '𝄞'.repeat((DEFAULT_LIMITS.maxIdLength * 3) / 4);
    for (const [runId, id] of [
      ['ks-1', euro],
      [euro, emoji],
      ['€'.repeat(DEFAULT_LIMITS.maxIdLength - 1) + 'x', wide],
    ] as const) {
      const params = obs(runId, id, 'pass', { taskClass: id, repo: id, taskId: id });
      expect((await ll.observe(params)).applied).toBe(true);
      expect((await ll.observe(params)).duplicate).toBe(true);
      expect((await ll.scores(id, id)).find((c) => c.templateId === id)?.counters.runs).toBe(1);
      expect((await store.statsForSegment(id, id)).map((x) => x.templateId)).toEqual([id]);
      expect((await store.stats([id, id, id]))!.counters.runs).toBe(1);
    }
    // The store answers a lookup by an id far over any limit (validation refuses such ids first).
    expect(await store.decision('€'.repeat(5000))).toBeUndefined();
    expect(await store.run('€'.repeat(5000))).toBeUndefined();
    expect(await store.template('€'.repeat(5000))).toBeUndefined();
    const live = await store.derivedSnapshot();
    await store.rebuild();
    expect(await store.derivedSnapshot()).toEqual(live);
    await store.close();
    const again = await LmdbStore.open(dir, { policy, noSync: true });
    expect(await again.derivedSnapshot()).toEqual(live);
    await again.close();
  });

  test('a fault inside a write transaction leaves nothing written, and the folder still rebuilds and opens', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    const before = { head: await store.head(), derived: await store.derivedSnapshot() };
    // The second derived write of the next commit fails, after the event and one segment were written.
    let restore = failingPut(store, 2, 'injected fault');
    await expect(ll.observe(obs('2', 'u', 'fail'))).rejects.toThrow('injected fault');
    restore();
    expect({ head: await store.head(), derived: await store.derivedSnapshot() }).toEqual(before);
    // Concurrent commits batched with the faulty one are unaffected, and the run can be sent again.
    expect((await ll.observe(obs('2', 'u', 'fail'))).applied).toBe(true);
    // A fault during rebuild leaves the folder as it was.
    const live = await store.derivedSnapshot();
    restore = failingPut(store, 3, 'injected rebuild fault');
    await expect(store.rebuild()).rejects.toThrow('injected rebuild fault');
    restore();
    expect(await store.derivedSnapshot()).toEqual(live);
    expect(await store.rebuild()).toBe(await store.head());
    expect(await store.derivedSnapshot()).toEqual(live);
    await store.close();
    const again = await LmdbStore.open(dir, { policy, noSync: true });
    expect(await again.derivedSnapshot()).toEqual(live);
    await again.close();
  });

  test('an I/O error at the adapter boundary is classified by errno, in commit, rebuild and close: the folder unchanged, writes marked failing', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    const before = { head: await store.head(), derived: await store.derivedSnapshot() };
    const root = (store as unknown as { root: { transaction: (...a: unknown[]) => Promise<unknown>; transactionSync: (...a: unknown[]) => unknown } }).root;
    const { transaction, transactionSync } = root;
    // Writes use asynchronous transactions, rebuild a synchronous one: both fail alike.
    const failWith = (err: unknown) => {
      root.transaction = () => Promise.reject(err);
      root.transactionSync = () => {
        throw err;
      };
    };
    const restore = () => {
      root.transaction = transaction;
      root.transactionSync = transactionSync;
    };
    const errno = (code: string) => () => Object.assign(new Error(`${code}: injected, write`), { code });
    // lmdb-js's own shape: "Commit failed", the cause arriving later on commitError.
    const lmdbJs = (cause: string) => () => Object.assign(new Error('Commit failed'), { commitError: Promise.reject(new Error(cause)) });
    const cases: Array<[() => unknown, string, RegExp]> = [
      [errno('ENOSPC'), 'LL_STORAGE_FULL', /^disk full: /],
      [errno('EDQUOT'), 'LL_STORAGE_FULL', /^disk full: .*EDQUOT/],
      [errno('EIO'), 'LL_UNAVAILABLE', /^store write failed: .*EIO.*retry later/],
      [errno('EROFS'), 'LL_UNAVAILABLE', /^store write failed: .*EROFS/],
      // lmdb-js's synchronous transactions throw the errno as a number.
      [() => Object.assign(new Error('No space left on device'), { code: 28 }), 'LL_STORAGE_FULL', /^disk full: .*ENOSPC/],
      // EIO with free space is an I/O fault (on a full disk LMDB reports its cut-short writes as EIO: test/faults/rebuild.test.ts).
      [() => Object.assign(new Error('Input/output error'), { code: 5 }), 'LL_UNAVAILABLE', /^store write failed: Input\/output error \(EIO\)/],
      [lmdbJs('MDB_MAP_FULL: Environment mapsize limit reached'), 'LL_STORAGE_FULL', /^disk full: .*MDB_MAP_FULL/],
      [lmdbJs('Input/output error'), 'LL_UNAVAILABLE', /^store write failed: Input\/output error/],
    ];
    for (const [err, code, message] of cases) {
      for (const write of [() => ll.observe(obs('2', 'u', 'fail')), () => store.rebuild()]) {
        failWith(err());
        const thrown = (await write().catch((e: unknown) => e)) as Error & { code: string };
        restore();
        expect(thrown.code, String(thrown)).toBe(code);
        expect(thrown.message).toMatch(message);
        expect(thrown.message).not.toMatch(/\n/);
        // Health follows this until a write succeeds or statfs shows free space (it does here).
        expect((store as unknown as { writesFailing: boolean }).writesFailing).toBe(true);
        expect({ head: await store.head(), derived: await store.derivedSnapshot() }).toEqual(before);
      }
    }
    // Anything that is not an I/O error passes through as it is.
    failWith(new TypeError('a bug'));
    await expect(store.rebuild()).rejects.toThrow(TypeError);
    restore();
    // Writes resume after the fault; close reports its own failing write as one clear error and still closes.
    expect((await ll.observe(obs('2', 'u', 'fail'))).applied).toBe(true);
    expect((store as unknown as { writesFailing: boolean }).writesFailing).toBe(false);
    const head = await store.head();
    const flushed = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(root), 'flushed');
    Object.defineProperty(root, 'flushed', { get: () => Promise.reject(errno('ENOSPC')()), configurable: true });
    await expect(store.close()).rejects.toMatchObject({ code: 'LL_STORAGE_FULL' });
    if (flushed === undefined) delete (root as { flushed?: unknown }).flushed;
    const again = await LmdbStore.open(dir, { policy, noSync: true });
    expect(await again.head()).toBe(head);
    await again.close();
  });

  test('a format-2 folder (stats keyed [template, class, repo]) is rebuilt into this format on open', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    const live = await store.derivedSnapshot();
    await store.close();
    const raw = open({ path: dir });
    await raw.openDB('meta', {}).put('format', 2);
    await raw.openDB('stats', {}).put(['t', '', ''], { v: 1, stale: true });
    await raw.close();
    const again = await LmdbStore.open(dir, { policy, noSync: true });
    expect(await again.derivedSnapshot()).toEqual(live);
    await again.close();
    const check = open({ path: dir });
    expect(check.openDB('meta', {}).get('format')).toBe(FOLDER_FORMAT);
    expect([...check.openDB('stats', {}).getKeys({})]).toEqual([]);
    await check.close();
  });
});
