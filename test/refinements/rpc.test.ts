import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { createClient } from '../../src/client.js';
import { LearnLoopServiceService, RefinementDecision, RefinementStatus, TemplateStatus } from '../../src/gen/learnloop/v1/learnloop.js';
import { WITHHELD_FAILURE_TEXT } from '../../src/server/mapping.js';
import { startTestServer } from '../helpers/server.js';
import { fixtureLog } from '../reports/fixture-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A server on a copy of the fixture log (with its two open items), and the typed client. */
async function serve(token = '', flags: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'learnloop-refine-rpc-'));
  dirs.push(dir);
  const db = join(dir, 'db');
  const log = await fixtureLog(db);
  await log.store.close();
  const { addr, client } = await startTestServer({ db, ...(token ? { token } : {}), ...flags }, token ? { token } : {});
  const anonymous = createClient(addr);
  return {
    addr,
    list: client.listRefinements,
    listWithoutToken: anonymous.listRefinements,
    decide: client.decideRefinement,
    decideWithoutToken: anonymous.decideRefinement,
    scores: () => client.getScores(),
    templates: async () => (await client.listTemplates({})).templates.map((t) => t.templateId),
    close: () => anonymous.close(),
  };
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('refinement RPCs', () => {
  test('the typed client has a method for every RPC of the service', async () => {
    const { client } = await startTestServer();
    const methods = Object.keys(client).filter((k) => k !== 'close').sort();
    expect(methods).toEqual(Object.keys(LearnLoopServiceService).sort());
  });

  test('GetScores counts imported unverified runs apart: in runs, not in the pass rate', async () => {
    const c = await serve();
    const custom = (await c.scores()).scorecards.find((s) => s.templateId === 'custom')!;
    expect(custom.unverified).toBe(4);
    expect(custom.passRate).toBeCloseTo(custom.passes / (custom.runs - custom.infraErrors - custom.unverified), 12);
    c.close();
  });

  test('ListRefinements lists items with their evidence, filtered by status', async () => {
    const c = await serve();
    const all = await c.list({});
    expect(all.refinements.map((r) => [r.refinementId, r.status])).toEqual([
      ['custom#1', RefinementStatus.REFINEMENT_STATUS_OPEN],
      ['feature@v1#1', RefinementStatus.REFINEMENT_STATUS_OPEN],
    ]);
    expect(JSON.parse(all.refinements[0]!.evidenceJson)).toHaveProperty('probBelowThreshold');
    expect(all.refinements[0]!.decidedAt).toBeUndefined();
    expect((await c.list({ status: RefinementStatus.REFINEMENT_STATUS_ACCEPTED })).refinements).toEqual([]);
    const bad = await failure(c.list({ status: 99 as RefinementStatus }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    c.close();
  });

  test('DecideRefinement accepts (registering the child version) and rejects', async () => {
    const c = await serve();
    const accepted = await c.decide({
      refinementId: 'feature@v1#1',
      decision: RefinementDecision.REFINEMENT_DECISION_ACCEPT,
      actor: 'maria',
      reason: 'explicit verify step',
      newTemplateId: 'feature@v2',
      newTemplateStatus: TemplateStatus.TEMPLATE_STATUS_ACTIVE,
    });
    expect(accepted.refinement).toMatchObject({ status: RefinementStatus.REFINEMENT_STATUS_ACCEPTED, actor: 'maria', newTemplateId: 'feature@v2' });
    expect(accepted.template).toMatchObject({ templateId: 'feature@v2', parentTemplateId: 'feature@v1', status: TemplateStatus.TEMPLATE_STATUS_ACTIVE });
    const rejected = await c.decide({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'li', reason: 'catch-all' });
    expect(rejected.refinement!.status).toBe(RefinementStatus.REFINEMENT_STATUS_REJECTED);
    expect(rejected.template).toBeUndefined();
    c.close();
  });

  test.each([
    [{ refinementId: 'nope#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'a', reason: 'r' }, status.NOT_FOUND],
    [{ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_UNSPECIFIED, actor: 'a', reason: 'r' }, status.INVALID_ARGUMENT],
    [{ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_ACCEPT, actor: 'a', reason: 'r' }, status.INVALID_ARGUMENT],
    [{ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: '', reason: 'r' }, status.INVALID_ARGUMENT],
    // Limits on every string (a 5,000-character id once answered INTERNAL; free text had no limit).
    [{ refinementId: 'x'.repeat(5000), decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'a', reason: 'r' }, status.INVALID_ARGUMENT],
    [{ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'a'.repeat(1 << 20), reason: 'r' }, status.INVALID_ARGUMENT],
    [{ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'a', reason: 'r'.repeat(1 << 20) }, status.INVALID_ARGUMENT],
    [{ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_ACCEPT, actor: 'a', reason: 'r', newTemplateId: 'c@v2', description: 'd'.repeat(8193) }, status.INVALID_ARGUMENT],
  ])('DecideRefinement %j -> status %i', async (req, expected) => {
    const c = await serve();
    expect((await failure(c.decide(req))).code).toBe(expected);
    c.close();
  });

  test('accepting with a reason at the text limit and no description: the default description is cut to fit', async () => {
    const c = await serve();
    const reason = 'r'.repeat(8192);
    const res = await c.decide({ refinementId: 'feature@v1#1', decision: RefinementDecision.REFINEMENT_DECISION_ACCEPT, actor: 'a', reason, newTemplateId: 'feature@v2' });
    expect(res.template!.description).toHaveLength(8192);
    expect(res.template!.description).toMatch(/^refines feature@v1 \(feature@v1#1\): r+$/);
    c.close();
  });

  test('a decided item cannot be decided otherwise, nor again by another person or for another reason: FAILED_PRECONDITION', async () => {
    const c = await serve();
    await c.decide({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'li', reason: 'r' });
    const err = await failure(
      c.decide({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_ACCEPT, actor: 'a', reason: 'r', newTemplateId: 'custom@v2' }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    // The same rejection resent is answered unchanged; the same decision by another person is refused, naming li.
    const resent = await c.decide({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'li', reason: 'r' });
    expect(resent.refinement).toMatchObject({ actor: 'li', reason: 'r' });
    const other = await failure(c.decide({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'mallory', reason: 'different person' }));
    expect(other.code).toBe(status.FAILED_PRECONDITION);
    expect(other.details).toMatch(/already rejected by "li" at .*; nothing changed/);
    c.close();
  });

  test('DecideRefinement is a write: it needs the bearer token when one is set', async () => {
    const c = await serve('s3cret');
    const err = await failure(
      c.decideWithoutToken({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_REJECT, actor: 'li', reason: 'r' }),
    );
    expect(err.code).toBe(status.UNAUTHENTICATED);
    c.close();
  });

  describe('failure-reason text in the evidence', () => {
    const signatures = (res: { refinements: Array<{ evidenceJson: string }> }) =>
      res.refinements.flatMap((r) => (JSON.parse(r.evidenceJson) as { topFailures: Array<{ signature: string }> }).topFailures.map((f) => f.signature));

    test('with auth off, everyone sees it; with a token and reads open, only token holders do', async () => {
      const open = await serve();
      const shown = signatures(await open.list({}));
      expect(shown.length).toBeGreaterThan(0);
      expect(shown).not.toContain(WITHHELD_FAILURE_TEXT);
      open.close();

      const c = await serve('s3cret');
      expect(signatures(await c.list({}))).toEqual(shown);
      const anonymous = await c.listWithoutToken({});
      expect(signatures(anonymous)).toEqual(shown.map(() => WITHHELD_FAILURE_TEXT));
      // The rest of the evidence (counts, remediations) is still there.
      expect(JSON.parse(anonymous.refinements[0]!.evidenceJson)).toHaveProperty('topFailures.0.count');
      const guessing = createClient(c.addr, { token: 'guess' });
      expect(signatures(await guessing.listRefinements({}))).toEqual(shown.map(() => WITHHELD_FAILURE_TEXT));
      guessing.close();
      c.close();
    });

    test('with protected reads, ListRefinements needs the read token; its holders see the text', async () => {
      const c = await serve('w', { 'read-token': 'r' });
      expect((await failure(c.list({}))).code).toBe(status.UNAUTHENTICATED);
      expect((await failure(c.listWithoutToken({}))).code).toBe(status.UNAUTHENTICATED);
      const reader = createClient(c.addr, { token: 'r' });
      expect(signatures(await reader.listRefinements({}))).not.toContain(WITHHELD_FAILURE_TEXT);
      reader.close();
      c.close();
    });
  });

  test('concurrent accepts with different new ids: one wins and only its template is registered; an existing template is ALREADY_EXISTS', async () => {
    const c = await serve();
    const before = (await c.scores()).scorecards.map((s) => s.templateId);
    const accept = (newTemplateId: string) =>
      c.decide({ refinementId: 'custom#1', decision: RefinementDecision.REFINEMENT_DECISION_ACCEPT, actor: 'a', reason: 'r', newTemplateId });
    const taken = await failure(accept('feature@v1'));
    expect(taken.code).toBe(status.ALREADY_EXISTS);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => accept(`custom@v${i + 2}`)));
    const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof c.decide>>> => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as ServiceError).code)).toEqual(Array(7).fill(status.FAILED_PRECONDITION));
    const winner = won[0]!.value.template!.templateId;
    const listed = (await c.templates()).filter((id) => !before.includes(id));
    expect(listed).toEqual([winner]);
    c.close();
  });
});

