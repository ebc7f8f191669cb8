/** What only the LMDB adapter does: folder format, schema versions, several processes on one folder. The rest is test/store/contract.ts. */
import { open } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { FOLDER_FORMAT, LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { obs } from './contract.js';

const policy: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };

async function openLoop(dir: string, p: PolicyConfig = policy) {
  const store = await LmdbStore.open(dir, { policy: p, noSync: true });
  let t = 1_700_000_000_000;
  return { store, ll: compose(store, { limits: DEFAULT_LIMITS }, () => (t += 1000)).learnloop };
}

describe('LMDB store', () => {
  test('a stored value from an unknown schema version is refused, not misread', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await store.close();
    const raw = open({ path: dir });
    await raw.openDB('templates', {}).put('t', { v: 99, templateId: 't' });
    await raw.close();
    const again = await LmdbStore.open(dir, { policy, noSync: true });
    await expect(again.template('t')).rejects.toThrow(/schema version 99/);
    await again.close();
  });

  test('a folder says its format; a later format is refused at open, naming both', async () => {
    const dir = tmpDir();
    const { store, ll } = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await store.rebuild();
    await store.close();
    const raw = open({ path: dir });
    expect(raw.openDB('meta', {}).get('format')).toBe(FOLDER_FORMAT);
    await raw.openDB('meta', {}).put('format', FOLDER_FORMAT + 1);
    await raw.close();
    await expect(LmdbStore.open(dir, { policy, noSync: true })).rejects.toThrow(
      `written by a newer learnloop (folder format ${FOLDER_FORMAT + 1}; this one reads up to ${FOLDER_FORMAT})`,
    );
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
});
