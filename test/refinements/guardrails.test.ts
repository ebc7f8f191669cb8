import { describe, expect, test } from 'vitest';
import { futileRefinements, scanRefinements, type RefinementRow, type RunRow, type TemplateRow } from '../../src/reports/index.js';

const DAY = 86_400_000;
const AS_OF = Date.UTC(2026, 2, 1);
const RULES = { version: 1, rules: [] };

/** `passes` passing and `fails` failing runs of a template, spread over the two weeks before AS_OF. */
function runs(templateId: string, passes: number, fails: number): RunRow[] {
  return Array.from({ length: passes + fails }, (_, i) => ({
    runId: `${templateId}-${i}`,
    templateId,
    taskClass: 'bug-fix',
    repo: 'org/app',
    taskId: `${templateId}-t${i}`,
    attempt: 1,
    outcome: i < passes ? 'pass' : 'fail',
    retries: 0,
    durationSeconds: 60,
    failureReason: i < passes ? '' : 'checks failed: tests',
    finishedAtMs: AS_OF - 14 * DAY + i * 3_600_000,
    agent: 'claude',
    model: 'sonnet',
  }));
}

const template = (templateId: string, parentTemplateId = '', status: TemplateRow['status'] = 'active'): TemplateRow => ({ templateId, parentTemplateId, status });
const accepted = (templateId: string, newTemplateId: string, n: number): RefinementRow => ({
  refinementId: `${templateId}#${n}`,
  templateId,
  status: 'accepted',
  trigger: 'below_threshold',
  summary: '',
  openedAtMs: 0,
  decidedAtMs: 0,
  actor: 'a',
  reason: 'r',
  newTemplateId,
});

describe('refinement guardrails', () => {
  test.each([
    // [passes, fails, opens?]: P(rate < 0.5) under Beta(1 + passes, 1 + fails) must reach 0.95 with >= 10 judged runs.
    [3, 12, true], // P ≈ 0.99
    [6, 9, false], // P ≈ 0.79: below half, but not credibly
    [2, 6, false], // 8 judged runs: too few
    [12, 3, false],
  ])('%i passes and %i fails -> opens: %s', (passes, fails, opens) => {
    const scan = scanRefinements({ rows: runs('t@v1', passes, fails), templates: [template('t@v1')], refinements: [], rules: RULES, asOfMs: AS_OF });
    expect(scan.proposals.length > 0).toBe(opens);
  });

  test('a retired template gets no item', () => {
    const scan = scanRefinements({ rows: runs('t@v1', 1, 14), templates: [template('t@v1', '', 'retired')], refinements: [], rules: RULES, asOfMs: AS_OF });
    expect(scan).toEqual({ proposals: [], suppressed: [] });
  });

  test('cap on child versions awaiting review', () => {
    const templates = [template('t@v1'), template('t@v2', 't@v1', 'candidate'), template('t@v3', 't@v1', 'candidate')];
    const scan = scanRefinements({ rows: runs('t@v1', 1, 14), templates, refinements: [], rules: RULES, asOfMs: AS_OF });
    expect(scan.proposals).toEqual([]);
    expect(scan.suppressed).toEqual([{ templateId: 't@v1', reason: '2 child versions already await review as candidates (cap 2)' }]);
    const one = scanRefinements({ rows: runs('t@v1', 1, 14), templates: templates.slice(0, 2), refinements: [], rules: RULES, asOfMs: AS_OF });
    expect(one.proposals.map((p) => p.refinementId)).toEqual(['t@v1#1']);
  });

  test('loop breaker after two refinements in a row without improvement', () => {
    const rows = [...runs('t@v1', 3, 12), ...runs('t@v2', 3, 12), ...runs('t@v3', 2, 13)];
    const templates = [template('t@v1'), template('t@v2', 't@v1'), template('t@v3', 't@v2')];
    const refinements = [accepted('t@v1', 't@v2', 1), accepted('t@v2', 't@v3', 1)];
    expect(futileRefinements('t@v3', rows, refinements, 10)).toBe(2);
    const scan = scanRefinements({ rows, templates, refinements, rules: RULES, asOfMs: AS_OF });
    expect(scan.suppressed.find((s) => s.templateId === 't@v3')?.reason).toMatch(/^loop breaker: 2 refinements in a row/);
    expect(scan.proposals.map((p) => p.templateId)).not.toContain('t@v3');
    // One refinement that did improve resets the count.
    const better = [...runs('t@v1', 3, 12), ...runs('t@v2', 6, 9), ...runs('t@v3', 2, 13)];
    expect(futileRefinements('t@v3', better, refinements, 10)).toBe(1);
    expect(scanRefinements({ rows: better, templates, refinements, rules: RULES, asOfMs: AS_OF }).proposals.map((p) => p.templateId)).toContain('t@v3');
  });

  describe('a rejection stands until new evidence', () => {
    const REJECTED_AT = AS_OF - 7 * DAY;
    const rejected: RefinementRow = { ...accepted('t@v1', '', 1), status: 'rejected', decidedAtMs: REJECTED_AT, actor: 'carol', reason: 'expected; do not reopen' };
    /** Runs of t@v1 that finished after the rejection. */
    const since = (passes: number, fails: number) =>
      runs('t@v1', passes, fails).map((r, i) => ({ ...r, runId: `since-${i}`, taskId: `since-t${i}`, finishedAtMs: REJECTED_AT + (i + 1) * 3_600_000 }));
    const scan = (rows: RunRow[], asOfMs = AS_OF) => scanRefinements({ rows, templates: [template('t@v1')], refinements: [rejected], rules: RULES, asOfMs });

    test('the same log scanned again proposes nothing and says why, whatever the scan date', () => {
      const first = scan(runs('t@v1', 1, 14));
      expect(first.proposals).toEqual([]);
      expect(first.suppressed).toEqual([
        { templateId: 't@v1', reason: 't@v1#1 was rejected by carol on 2026-02-22; a new item needs 10 judged runs finished since then, and it has 0' },
      ]);
      expect(scan(runs('t@v1', 1, 14))).toEqual(first);
      // A scan as of a date before the decision cannot undo it either: the decision is in the log.
      expect(scan(runs('t@v1', 1, 14), REJECTED_AT - DAY).proposals).toEqual([]);
    });

    test('fewer than minRuns judged runs since: still held', () => {
      expect(scan([...runs('t@v1', 1, 14), ...since(0, 9)]).suppressed[0]!.reason).toMatch(/and it has 9$/);
    });

    test('minRuns judged runs since on which the failure holds: a new item, standing on that evidence', () => {
      const r = scan([...runs('t@v1', 1, 14), ...since(0, 12)]);
      expect(r.suppressed).toEqual([]);
      expect(r.proposals.map((p) => [p.refinementId, p.trigger])).toEqual([['t@v1#2', 'below_threshold']]);
      expect(r.proposals[0]!.summary).toMatch(/^since t@v1#1 was rejected by carol on 2026-02-22: pass rate 0\.0% over 12 judged runs finished since; P\(rate < 50\.0%\) = 1\.000$/);
    });

    test('minRuns judged runs since that do not show the failure credibly: still held, with their numbers', () => {
      const r = scan([...runs('t@v1', 1, 14), ...since(4, 8)]);
      expect(r.proposals).toEqual([]);
      expect(r.suppressed[0]!.reason).toMatch(/^t@v1#1 was rejected by carol on 2026-02-22; the runs since do not show the failure again \(pass rate 33\.3% over 12 judged runs/);
    });
  });

  test('an accepted item holds its template back the same way: the new version answers that evidence', () => {
    const ACCEPTED_AT = AS_OF - 7 * DAY;
    const decided: RefinementRow = { ...accepted('t@v1', 't@v2', 1), decidedAtMs: ACCEPTED_AT, actor: 'maria' };
    const templates = [template('t@v1'), template('t@v2', 't@v1', 'candidate')];
    const held = scanRefinements({ rows: runs('t@v1', 1, 14), templates, refinements: [decided], rules: RULES, asOfMs: AS_OF });
    expect(held).toEqual({
      proposals: [],
      suppressed: [{ templateId: 't@v1', reason: 't@v1#1 was accepted as t@v2 by maria on 2026-02-22; a new item needs 10 judged runs finished since then, and it has 0' }],
    });
    // Failures after the acceptance propose another item, standing on them.
    const later = runs('t@v1', 0, 12).map((r, i) => ({ ...r, runId: `after-${i}`, taskId: `after-t${i}`, finishedAtMs: ACCEPTED_AT + (i + 1) * 3_600_000 }));
    const again = scanRefinements({ rows: [...runs('t@v1', 1, 14), ...later], templates, refinements: [decided], rules: RULES, asOfMs: AS_OF });
    expect(again.proposals.map((p) => p.refinementId)).toEqual(['t@v1#2']);
    expect(again.proposals[0]!.summary).toMatch(/^since t@v1#1 was accepted as t@v2 by maria on 2026-02-22: pass rate 0\.0% over 12 judged runs finished since/);
  });

  test('an item carries the next free id for its template', () => {
    const refinements: RefinementRow[] = [{ ...accepted('t@v1', 't@v2', 1), status: 'rejected', newTemplateId: '' }];
    const scan = scanRefinements({ rows: runs('t@v1', 1, 14), templates: [template('t@v1')], refinements, rules: RULES, asOfMs: AS_OF });
    expect(scan.proposals.map((p) => p.refinementId)).toEqual(['t@v1#2']);
  });
});
