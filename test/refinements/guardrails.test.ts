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

  test('an item carries the next free id for its template', () => {
    const refinements: RefinementRow[] = [{ ...accepted('t@v1', 't@v2', 1), status: 'rejected', newTemplateId: '' }];
    const scan = scanRefinements({ rows: runs('t@v1', 1, 14), templates: [template('t@v1')], refinements, rules: RULES, asOfMs: AS_OF });
    expect(scan.proposals.map((p) => p.refinementId)).toEqual(['t@v1#2']);
  });
});
