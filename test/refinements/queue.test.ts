import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../../src/bandit/index.js';
import { AS_OF, CLOCK, fixtureLog, RULES } from '../reports/fixture-log.js';
import { obs } from '../store/contract.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function log() {
  const dir = mkdtempSync(join(tmpdir(), 'learnloop-refine-'));
  dirs.push(dir);
  return fixtureLog(join(dir, 'db'));
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('refinement queue', () => {
  test('a scan opens items for the template credibly below threshold and the regressed one, with evidence', async () => {
    const { store, queue } = await log();
    const items = await queue.list();
    expect(items.map((i) => [i.refinementId, i.templateId, i.status, i.trigger])).toEqual([
      ['custom#1', 'custom', 'open', 'below_threshold'],
      ['feature@v1#1', 'feature@v1', 'open', 'regression'],
    ]);
    const evidence = items[0]!.evidence as { probBelowThreshold: number; scorecard: { judged: number }; topFailures: Array<{ remediation: unknown }>; trend: unknown[] };
    expect(evidence.probBelowThreshold).toBeGreaterThanOrEqual(0.95);
    expect(evidence.scorecard.judged).toBeGreaterThanOrEqual(10);
    expect(evidence.topFailures.length).toBeGreaterThan(0);
    expect(evidence.topFailures[0]!.remediation).not.toBeNull();
    expect(evidence.trend).toHaveLength(8);
    expect(items[0]!.openedAtMs).toBe(AS_OF);
    await store.close();
  });

  test('no second item while one is open for the same template', async () => {
    const { store, queue } = await log();
    const head = await store.head();
    const again = await queue.scan(AS_OF, RULES);
    expect(again.opened).toEqual([]);
    expect(again.suppressed).toEqual([
      { templateId: 'custom', reason: 'item custom#1 is still open' },
      { templateId: 'feature@v1', reason: 'item feature@v1#1 is still open' },
    ]);
    expect(await store.head()).toBe(head);
    await store.close();
  });

  test('accepting records who and why and registers the new version under its parent, inheriting its record', async () => {
    const { store, ll, queue } = await log();
    const { record, template } = await queue.accept({
      refinementId: 'feature@v1#1',
      actor: 'maria',
      reason: 'agents skip the test step; added an explicit verify section',
      newTemplateId: 'feature@v2',
      description: '',
    });
    expect(record).toMatchObject({ status: 'accepted', actor: 'maria', newTemplateId: 'feature@v2', decidedAtMs: AS_OF });
    expect(template).toMatchObject({ templateId: 'feature@v2', parentTemplateId: 'feature@v1', status: 'candidate' });
    expect((await store.template('feature@v2'))!.description).toMatch(/^refines feature@v1 \(feature@v1#1\)/);
    // A child with no runs of its own starts from the better of its parent's mean and the base prior's
    // (policy /5, fair trial: here the parent's), with at most parentStrength pseudo-runs. (Both active,
    // so both posteriors are fitted over the same set: the fixture's templates were first seen in Observe,
    // as candidates.)
    for (const [id, parentId] of [['feature@v1', ''], ['feature@v2', 'feature@v1']] as const) {
      const t = (await store.template(id))!;
      await ll.registerTemplate({ templateId: id, parentTemplateId: parentId, status: 'active', description: t.description });
    }
    const child = await ll.posterior('feature@v2', 'feature', '');
    const parent = await ll.posterior('feature@v1', 'feature', '');
    expect(child.mean).toBeCloseTo(parent.mean, 9);
    // At most parentStrength pseudo-runs; less here, as the task class's spread of groups is added (policy /4)
    // and, under /7, the base prior's strength is integrated: where it is below parentStrength it caps the
    // child's, so the mixture's moment-matched strength is lower (7.4 of 10 here).
    expect(child.alpha + child.beta).toBeLessThanOrEqual(ll.policy.parentStrength + 1e-9);
    expect(child.alpha + child.beta).toBeGreaterThan(0.6 * ll.policy.parentStrength);
    expect(parent.alpha + parent.beta).toBeGreaterThan(ll.policy.parentStrength);
    // The same decision again changes nothing; a different one is refused.
    const head = await store.head();
    const again = await queue.accept({ refinementId: 'feature@v1#1', actor: 'maria', reason: 'agents skip the test step; added an explicit verify section', newTemplateId: 'feature@v2', description: '' });
    expect(again.duplicate).toBe(true);
    expect(await store.head()).toBe(head);
    expect(await code(queue.reject({ refinementId: 'feature@v1#1', actor: 'li', reason: 'no' }))).toBe(ERROR_CODES.refinementNotOpen);
    await store.close();
  });

  test('deciding a decided item again: a resend changes nothing and says so; another person or reason is refused, naming who decided it when', async () => {
    const { store, queue } = await log();
    const first = await queue.reject({ refinementId: 'custom#1', actor: 'carol', reason: 'expected; do not reopen' });
    expect(first.duplicate).toBe(false);
    const head = await store.head();
    const resend = await queue.reject({ refinementId: 'custom#1', actor: 'carol', reason: 'expected; do not reopen' });
    expect(resend).toMatchObject({ duplicate: true, record: { status: 'rejected', actor: 'carol', reason: 'expected; do not reopen' } });
    for (const other of [
      { actor: 'mallory', reason: 'different person' },
      { actor: 'carol', reason: 'a new reason' },
    ]) {
      const err = await queue.reject({ refinementId: 'custom#1', ...other }).then(
        () => undefined,
        (e: Error & { code: string }) => e,
      );
      expect(err?.code).toBe(ERROR_CODES.refinementNotOpen);
      expect(err?.message).toContain(`already rejected by "carol" at ${new Date(AS_OF).toISOString()}; nothing changed`);
    }
    expect(await store.head()).toBe(head);
    expect(await queue.get('custom#1')).toMatchObject({ actor: 'carol', reason: 'expected; do not reopen' });
    await store.close();
  });

  test('rejecting records who and why and registers nothing', async () => {
    const { store, queue } = await log();
    const templates = (await store.templates()).length;
    const r = await queue.reject({ refinementId: 'custom#1', actor: 'li', reason: 'custom is a catch-all; no single prompt fixes it' });
    expect(r).toMatchObject({ duplicate: false, record: { status: 'rejected', actor: 'li', newTemplateId: '' } });
    expect(await store.templates()).toHaveLength(templates);
    await store.close();
  });

  test.each([
    [{ refinementId: 'nope#1', actor: 'a', reason: 'r', newTemplateId: 'x@v2', description: '' }, ERROR_CODES.refinementNotFound],
    [{ refinementId: 'custom#1', actor: '', reason: 'r', newTemplateId: 'x@v2', description: '' }, ERROR_CODES.invalidArgument],
    [{ refinementId: 'custom#1', actor: 'a', reason: ' ', newTemplateId: 'x@v2', description: '' }, ERROR_CODES.invalidArgument],
    [{ refinementId: 'custom#1', actor: 'a', reason: 'r', newTemplateId: '', description: '' }, ERROR_CODES.invalidArgument],
  ])('accept %j fails with %s', async (params, expected) => {
    const { store, queue } = await log();
    expect(await code(queue.accept(params))).toBe(expected);
    expect((await queue.get('custom#1'))!.status).toBe('open');
    await store.close();
  });

  test('rebuild reproduces the queue from the log', async () => {
    const { store, queue } = await log();
    await queue.accept({ refinementId: 'feature@v1#1', actor: 'maria', reason: 'r', newTemplateId: 'feature@v2', description: 'd' });
    await queue.reject({ refinementId: 'custom#1', actor: 'li', reason: 'r' });
    const before = await store.derivedSnapshot();
    await store.rebuild();
    expect(await store.derivedSnapshot()).toEqual(before);
    expect(before.refinements).toHaveLength(2);
    await store.close();
  });

  test('a rejection is not undone by scanning again; the next item needs minRuns judged runs since it that still fail', async () => {
    const { store, ll, queue } = await log();
    await queue.reject({ refinementId: 'custom#1', actor: 'li', reason: 'custom is a catch-all' });
    const again = await queue.scan(AS_OF, RULES);
    expect(again.opened).toEqual([]);
    expect(again.suppressed).toContainEqual({ templateId: 'custom', reason: 'custom#1 was rejected by li on 2026-03-01; a new item needs 10 judged runs finished since then, and it has 0' });
    // Runs that finished after the decision (stamped AS_OF), failing as before.
    for (let i = 0; i < 10; i++) {
      await ll.observe(obs(`after-${i}`, 'custom', 'fail', { taskClass: 'custom', finishedAtMs: AS_OF + (i + 1) * 60_000, failureReason: 'tests failed' }));
    }
    const later = await queue.scan(CLOCK, RULES);
    expect(later.opened.map((x) => [x.refinementId, x.trigger])).toEqual([['custom#2', 'below_threshold']]);
    expect(later.opened[0]!.summary).toMatch(/^since custom#1 was rejected by li on 2026-03-01: pass rate 0\.0% over 10 judged runs finished since/);
    await store.close();
  });
});
