/** Reads that cost O(what they return): Observe's reply pooled over a bounded population, ListTemplates in pages, the read cache across writes. */
import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { candidatePosteriors, DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, hashHex, InvalidArgument, summarizePosterior, type PolicyConfig } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { TemplateStatus } from '../../src/index.js';
import { REPLY_POPULATION } from '../../src/service/learnloop.js';
import { LmdbStore } from '../../src/store/index.js';
import { grpcError, violatedFields } from '../helpers/grpc.js';
import { startTestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { obs } from '../store/contract.js';

const policy: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };
const NOW = 1_700_000_000_000;

async function openLoop(dir = tmpDir()) {
  const store = await LmdbStore.open(dir, { policy, noSync: true });
  return { dir, store, ll: compose(store, { limits: DEFAULT_LIMITS }, () => NOW).learnloop };
}

/** `n` active templates, template i with i % 7 runs of which about half pass, over two contexts. */
async function seeded(n: number) {
  const loop = await openLoop();
  const ids = Array.from({ length: n }, (_, i) => `t${String(i).padStart(3, '0')}@v1`);
  let run = 0;
  for (const [i, id] of ids.entries()) {
    await loop.ll.registerTemplate({ templateId: id, parentTemplateId: '', status: 'active', description: '' });
    for (let k = 0; k < i % 7; k++) await loop.ll.observe(obs(`r${run++}`, id, (i + k) % 2 === 0 ? 'pass' : 'fail', { repo: k % 2 === 0 ? 'org/app' : 'org/lib' }));
  }
  return { ...loop, ids };
}

/** The reply's posterior computed the long way: pooled over `population`, the template first. */
async function pooledOver(store: LmdbStore, templateId: string, population: readonly string[]) {
  const arms = await store.armEvidence([templateId, ...population.filter((id) => id !== templateId)], { taskClass: 'bug-fix', repo: 'org/app' });
  return summarizePosterior(candidatePosteriors(arms, policy, NOW)[0]!, policy.partialReward);
}

describe("Observe's reply", () => {
  test('is pooled over every active template while there are at most REPLY_POPULATION', async () => {
    const { store, ll, ids } = await seeded(REPLY_POPULATION);
    await ll.registerTemplate({ templateId: 'retired@v1', parentTemplateId: '', status: 'retired', description: '' });
    const reply = await ll.observe(obs('new-run', ids[3]!, 'pass'));
    expect(reply.posterior).toEqual(await pooledOver(store, ids[3]!, ids));
    await store.close();
  });

  test('beyond REPLY_POPULATION, over a fixed sample: runs of templates outside it do not move the reply, runs inside do', async () => {
    const { store, ll, ids } = await seeded(REPLY_POPULATION + 40);
    const byHash = [...ids].sort((a, b) => (hashHex(a) < hashHex(b) ? -1 : 1));
    const sample = byHash.slice(0, REPLY_POPULATION).sort();
    const outside = byHash[REPLY_POPULATION + 5]!;
    const target = byHash[REPLY_POPULATION + 6]!;
    const reply = async () => (await ll.observe(obs('probe', target, 'pass'))).posterior;
    const first = await reply();
    expect(first).toEqual(await pooledOver(store, target, sample));
    // Enough runs to move a fit that included it.
    for (let k = 0; k < 30; k++) await ll.observe(obs(`out-${k}`, outside, 'pass'));
    expect(await reply()).toEqual(first);
    for (let k = 0; k < 30; k++) await ll.observe(obs(`in-${k}`, sample[0]!, 'pass'));
    const moved = await reply();
    expect(moved).not.toEqual(first);
    expect(moved).toEqual(await pooledOver(store, target, sample));
    await store.close();
  });
});

describe('the LMDB read cache', () => {
  test("follows writes here and in another process on the folder: evidence equals a fresh store's, parents included", async () => {
    const a = await openLoop();
    const b = await openLoop(a.dir);
    const ids = ['p@v1', 'c@v2', 'x@v1', 'y@v1'];
    await a.ll.registerTemplate({ templateId: 'p@v1', parentTemplateId: '', status: 'active', description: '' });
    await a.ll.registerTemplate({ templateId: 'c@v2', parentTemplateId: 'p@v1', status: 'active', description: '' });
    const contexts = [
      { taskClass: 'bug-fix', repo: 'org/app' },
      { taskClass: 'bug-fix', repo: '' },
      { taskClass: '', repo: '' },
    ];
    const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 2));
    for (let i = 0; i < 60; i++) {
      const writer = i % 3 === 0 ? b : a;
      // Parents and children, in and out of cached contexts; sometimes a template event between.
      await writer.ll.observe(obs(`r${i}`, ids[(i * 7) % ids.length]!, i % 4 === 0 ? 'fail' : 'pass', { repo: i % 2 === 0 ? 'org/app' : 'org/lib' }));
      if (i === 30) await b.ll.registerTemplate({ templateId: 'z@v1', parentTemplateId: 'x@v1', status: 'candidate', description: '' });
      await nextTurn();
      const fresh = await openLoop(a.dir);
      for (const ctx of contexts) {
        const want = await fresh.store.armEvidence([...ids, 'z@v1'], ctx);
        expect(await a.store.armEvidence([...ids, 'z@v1'], ctx)).toEqual(want);
        expect(await b.store.armEvidence([...ids, 'z@v1'], ctx)).toEqual(want);
      }
      await fresh.store.close();
    }
    await a.store.close();
    await b.store.close();
  });
});

describe('ListTemplates', () => {
  test('pages in id order: every page joined is the whole list, the last page has no token', async () => {
    const { store, ll } = await openLoop();
    const statuses = ['active', 'candidate', 'retired'] as const;
    for (let i = 0; i < 25; i++) await ll.registerTemplate({ templateId: `t${(i * 11) % 25}`, parentTemplateId: '', status: statuses[i % 3]!, description: '' });
    for (const status of [undefined, ...statuses]) {
      const all = await ll.listTemplates(status);
      const joined = [];
      let pageToken = '';
      do {
        const page = await ll.listTemplatesPage({ status, pageSize: 4, pageToken });
        expect(page.templates.length).toBeLessThanOrEqual(4);
        joined.push(...page.templates);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      expect(joined).toEqual(all);
      expect(joined.map((t) => t.templateId)).toEqual(all.map((t) => t.templateId).sort());
      expect(new Set(joined.map((t) => t.status))).toEqual(new Set(status === undefined ? statuses : [status]));
    }
    expect((await ll.listTemplatesPage({ pageSize: 0, pageToken: '' })).nextPageToken).toBe('');
    expect((await ll.listTemplatesPage({ pageSize: 25, pageToken: '' })).nextPageToken).toBe('');
    const fields = async (q: { pageSize: number; pageToken: string }) => {
      const err = await ll.listTemplatesPage(q).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgument);
      return (err as InvalidArgument).violations.map((v) => v.field);
    };
    expect(await fields({ pageSize: -1, pageToken: '' })).toEqual(['page_size']);
    expect(await fields({ pageSize: 1, pageToken: 'not a token!' })).toEqual(['page_token']);
    await store.close();
  });

  test('a page token after a template id of 4-byte characters (within the limit, over it in UTF-16 units) is taken', async () => {
    const { store, ll } = await openLoop();
    const ids = ['👍'.repeat(192), '👎'.repeat(192), 'z'];
    for (const templateId of ids) await ll.registerTemplate({ templateId, parentTemplateId: '', status: 'active', description: '' });
    const first = await ll.listTemplatesPage({ pageSize: 1, pageToken: '' });
    const second = await ll.listTemplatesPage({ pageSize: 1, pageToken: first.nextPageToken });
    const third = await ll.listTemplatesPage({ pageSize: 1, pageToken: second.nextPageToken });
    expect([...first.templates, ...second.templates, ...third.templates].map((t) => t.templateId)).toEqual([...ids].sort());
    await store.close();
  });

  test('over gRPC: page_size and page_token, and a bad token is INVALID_ARGUMENT naming it', async () => {
    const { client } = await startTestServer();
    for (const id of ['a@v1', 'b@v1', 'c@v1']) await client.registerTemplate({ templateId: id });
    const first = await client.listTemplates({ status: TemplateStatus.TEMPLATE_STATUS_ACTIVE, pageSize: 2 });
    expect(first.templates.map((t) => t.templateId)).toEqual(['a@v1', 'b@v1']);
    const second = await client.listTemplates({ status: TemplateStatus.TEMPLATE_STATUS_ACTIVE, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.templates.map((t) => t.templateId)).toEqual(['c@v1']);
    expect(second.nextPageToken).toBe('');
    const err = await grpcError(client.listTemplates({ pageToken: '%%' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(err)).toEqual(['page_token']);
  });
});
