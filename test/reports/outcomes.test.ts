import { describe, expect, test } from 'vitest';
import { loadRules } from '../../src/cli/commands/analytics.js';
import { failureOccurrences, outcomesReport, renderReport, REPORT_FORMATS, repeatShare, sparkline, proportion, weeklyReport, type RunRow } from '../../src/reports/index.js';
import { DAY, designedOutcomes, END, REFINED_AT, START } from './designed-outcomes.js';

const RULES = loadRules();
const report = (seed: string, refined: boolean) => {
  const f = designedOutcomes(seed, refined);
  return outcomesReport({ ...f, rules: RULES, sinceMs: START, untilMs: END });
};

const row = (over: Partial<RunRow>): RunRow => ({
  runId: 'r',
  templateId: 't',
  taskClass: 'c',
  repo: 'org/app',
  taskId: '',
  attempt: 1,
  outcome: 'fail',
  retries: 0,
  durationSeconds: 10,
  failureReason: 'checks failed: tests',
  finishedAtMs: START,
  agent: '',
  model: '',
  ...over,
});

describe('repeated failures', () => {
  test('a repeat is the same pattern within the look-back, for the same template lineage; the repository is counted apart', () => {
    const rows = [
      row({ runId: 'a', finishedAtMs: START }),
      // Starts the log's look-back: judged from START + 14 days on.
      row({ runId: 'b', finishedAtMs: START + 14 * DAY, outcome: 'pass', failureReason: '' }),
      row({ runId: 'c', finishedAtMs: START + 14 * DAY }), // exactly 14 days after a: a repeat
      row({ runId: 'd', finishedAtMs: START + 28 * DAY + 1 }), // 14 days and 1 ms after c: new
      row({ runId: 'e', finishedAtMs: START + 29 * DAY, templateId: 't@v2' }), // the refined version repeats its parent's failure
      row({ runId: 'f', finishedAtMs: START + 30 * DAY, templateId: 'u', repo: 'org/app' }), // another template, same repository
      row({ runId: 'g', finishedAtMs: START + 31 * DAY, outcome: 'unverified' }), // not a failure
      row({ runId: 'h', finishedAtMs: START + 32 * DAY, outcome: 'timeout', failureReason: '' }), // another pattern
    ];
    const occ = failureOccurrences(rows, [{ templateId: 't@v2', parentTemplateId: 't', status: 'active' }]);
    expect(occ.map((o) => [o.runId, o.judgeable, o.repeatForTemplate, o.repeatForRepo])).toEqual([
      ['a', false, false, false],
      ['c', true, true, true],
      ['d', true, false, false],
      ['e', true, true, true],
      ['f', true, false, true],
      ['h', true, false, false],
    ]);
    expect(repeatShare(occ, 'template')).toMatchObject({ failed: 5, repeats: 2, share: 0.4 });
    expect(repeatShare(occ, 'repo')).toMatchObject({ failed: 5, repeats: 3 });
  });

  test('sparklines use a fixed 0–100% scale and mark empty bins', () => {
    expect(sparkline([proportion(0, 4), proportion(2, 4), proportion(4, 4), proportion(0, 0)])).toBe('▁▅█·');
  });
});

describe('scoreboard on the designed fixture (10 weeks, refinement at week 5)', () => {
  const r = report('issue-14', true);
  const by = (m: string) => r.metrics.find((x) => x.metric === m)!;

  test('pass rate up, retries down, repeated failures down: each credible, each attributed to the refinement', () => {
    expect(by('pass_rate').change.low).toBeGreaterThan(0);
    expect(by('retry_rate').change.high).toBeLessThan(0);
    expect(by('repeat_share').change.high).toBeLessThan(0);
    for (const m of r.metrics) {
      expect(m.verdict, m.metric).toBe('better');
      expect(m.attributedTo, m.metric).toEqual(['bug-fix@v1#1']);
    }
    const eff = r.refinements.find((x) => x.refinementId === 'bug-fix@v1#1')!;
    expect(eff.decidedAtMs).toBe(REFINED_AT);
    expect(eff.effects.map((e) => e.verdict)).toEqual(['better', 'better', 'better']);
  });

  test('the recurring "tests failed" pattern leads, with its remediation and the refinement that addressed it', () => {
    const top = r.repeats.patterns[0]!;
    expect(top.signature).toBe('fail: checks failed: tests');
    expect(top.remediation?.ruleId).toBe('tests-failed');
    expect(top.refinements.map((x) => x.refinementId)).toEqual(['bug-fix@v1#1']);
    expect(r.repeats.byTemplate.map((t) => t.key)).toEqual(['bug-fix@v1', 'bug-fix@v2', 'docs@v1']);
  });

  test('the off-policy lift is computed over the window', () => {
    expect(r.lift.decisions).toBe(designedOutcomes('issue-14', true).decisions.filter((d) => d.atMs >= START && d.atMs <= END).length);
    expect(r.lift.estimate?.decisions).toBe(r.lift.decisions);
  });

  test('a fixture where nothing changes reports no credible change', () => {
    const flat = report('issue-14', false);
    expect(flat.metrics.map((m) => m.verdict)).toEqual(['no credible change', 'no credible change', 'no credible change']);
    expect(flat.refinements).toEqual([]);
  });

  test('the window is required to be forward', () => {
    const f = designedOutcomes('x', true);
    expect(() => outcomesReport({ ...f, rules: RULES, sinceMs: END, untilMs: START })).toThrow(RangeError);
  });
});

describe('a change with no data on a side', () => {
  // Runs only in the window's last two thirds, all by t@v2, a refinement of t accepted when they start:
  // the start of every metric and the parent side of every effect have nothing.
  const FROM = START + 30 * DAY;
  const rows = Array.from({ length: 40 }, (_, i) =>
    row({ runId: `r${i}`, templateId: 't@v2', taskId: `task-${i >> 1}`, attempt: 1 + (i & 1), outcome: i % 3 === 0 ? 'fail' : 'pass', failureReason: i % 3 === 0 ? 'checks failed: tests' : '', finishedAtMs: FROM + i * DAY }),
  );
  const refinement = { refinementId: 't#1', templateId: 't', status: 'accepted', trigger: 'threshold', summary: '', openedAtMs: FROM - DAY, decidedAtMs: FROM, actor: 'a', reason: 'r', newTemplateId: 't@v2' } as const;
  const r = outcomesReport({ rows, templates: [{ templateId: 't@v2', parentTemplateId: 't', status: 'active' }], refinements: [refinement], decisions: [], rules: RULES, sinceMs: START, untilMs: END });
  // As a rate with no runs is 0 over [0, 1] with n = 0: 0 over the whole range, never credible.
  const NO_CHANGE = { estimate: 0, low: -1, high: 1, credible: false };

  test('the model: end − nothing is 0 over the whole range, not credible, not the end rate', () => {
    for (const m of r.metrics) {
      expect([m.start.n, m.end.n > 0], m.metric).toEqual([0, true]);
      expect(m.change, m.metric).toMatchObject(NO_CHANGE);
      expect(m.verdict, m.metric).toBe('no credible change');
    }
    const effects = r.refinements.find((x) => x.refinementId === 't#1')!.effects;
    for (const e of effects) {
      expect([e.parent.n, e.child.n > 0], e.metric).toEqual([0, true]);
      expect(e.change, e.metric).toMatchObject(NO_CHANGE);
    }
  });

  test('JSON and Markdown agree: no number where a side has no data', async () => {
    const json = JSON.parse(await renderReport(r, 'json')) as { metrics: Array<{ metric: string; start: { n: number }; change: object }>; refinements: Array<{ effects: Array<{ parent: { n: number }; change: object }> }> };
    for (const m of json.metrics) {
      expect(m.start.n, m.metric).toBe(0);
      expect(m.change, m.metric).toMatchObject(NO_CHANGE);
    }
    for (const e of json.refinements[0]!.effects) expect(e.change).toMatchObject(NO_CHANGE);
    const md = await renderReport(r, 'md');
    // The scoreboard's change column and each effect's change: '–', no points.
    const boardRows = md.split('\n').filter((l) => /^\| (pass rate|retry rate|repeated failures) \(/.test(l));
    expect(boardRows).toHaveLength(3);
    for (const l of boardRows) expect(l.split(' | ')[3], l).toBe('–');
    const effectRow = md.split('\n').find((l) => l.startsWith('| t#1 |'))!;
    expect(effectRow.match(/, –: /g), effectRow).toHaveLength(3);
    expect(effectRow).not.toMatch(/points/);
  });

  test('the weekly summary: no week-over-week without last week, no retry rate without tasks, its scoreboard as above', async () => {
    const week = (asOfMs: number) => weeklyReport({ rows, templates: [], refinements: [refinement], rules: RULES, asOfMs });
    const first = week(FROM + 3 * DAY);
    expect([first.thisWeek.judged > 0, first.lastWeek.judged]).toEqual([true, 0]);
    expect(await renderReport(first, 'md')).not.toMatch(/on last week/);
    for (const m of first.scoreboard.metrics) expect([m.start.n, m.change], m.metric).toEqual([0, expect.objectContaining(NO_CHANGE)]);
    const none = week(FROM - 1);
    expect(await renderReport(none, 'md')).toMatch(/^This week: 0 runs on 0 tasks; pass rate –; retry rate –; 0 unverified\.$/m);
  });
});

describe('outcomes golden files (designed fixture)', () => {
  const r = report('issue-14', true);
  test.each(REPORT_FORMATS)('outcomes as %s matches its golden file', async (format) => {
    await expect(await renderReport(r, format)).toMatchFileSnapshot(`__golden__/outcomes-designed.${format}`);
  });

  test('byte-identical for the same log and window, whatever order the rows come in', async () => {
    const f = designedOutcomes('issue-14', true);
    const again = outcomesReport({ ...f, rows: [...f.rows].reverse(), decisions: [...f.decisions].reverse(), rules: RULES, sinceMs: START, untilMs: END });
    for (const format of REPORT_FORMATS) expect(await renderReport(again, format)).toBe(await renderReport(r, format));
  });
});
