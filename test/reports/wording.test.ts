/** The reports' words where there is little or nothing: no runs, one run. */
import { describe, expect, test } from 'vitest';
import { buildReport } from '../../src/cli/commands/analytics.js';
import { fmt, NO_DATA, renderReport, type RunRow } from '../../src/reports/index.js';
import { RULES } from './fixture-log.js';

const AS_OF = Date.parse('2026-12-03T23:59:59.999Z');
const one: RunRow = { runId: 'r1', templateId: 'bug-fix@v1', taskClass: 'bug-fix', repo: 'org/api', taskId: 't1', attempt: 1, outcome: 'pass', retries: 0, durationSeconds: 120, failureReason: '', finishedAtMs: AS_OF - 3_600_000, agent: '', model: '' };
const data = (rows: RunRow[]) => ({ rows, templates: [], refinements: [] });

describe('report wording', () => {
  test('report scores shows the no-data mark, not 0, for the median duration of no runs', async () => {
    const md = await renderReport(buildReport('scores', data([]), AS_OF, RULES), 'md');
    const overall = md.split('\n').find((l) => l.startsWith('| overall') || l.startsWith('| all'))!;
    expect(overall, md).toBeDefined();
    expect(overall.split('|').map((c) => c.trim()).at(-2)).toBe(NO_DATA);
  });

  test('one run is "1 run", one task "1 task"', async () => {
    expect(fmt.count(1, 'run')).toBe('1 run');
    expect(fmt.count(0, 'run')).toBe('0 runs');
    expect(fmt.count(2, 'failed run')).toBe('2 failed runs');
    const weekly = await renderReport(buildReport('weekly', data([one]), AS_OF, RULES), 'md');
    expect(weekly).toContain('This week: 1 run on 1 task;');
    const scores = await renderReport(buildReport('scores', data([one]), AS_OF, RULES), 'md');
    expect(scores).toContain('· 1 run, 1 task');
  });

  test('the weekly\'s open refinements say which of their templates were retired', async () => {
    // Retiring a template leaves its item open until someone decides it; the summary listed it as
    // open work like any other, with nothing to say the template was already out of use.
    const item = { status: 'open' as const, trigger: 'below_threshold', summary: 's', openedAtMs: AS_OF - 3_600_000, decidedAtMs: 0, actor: '', reason: '', newTemplateId: '' };
    const refinements = [{ ...item, refinementId: 'old@v1#1', templateId: 'old@v1' }, { ...item, refinementId: 'live@v1#1', templateId: 'live@v1' }];
    const templates = [
      { templateId: 'old@v1', parentTemplateId: '', status: 'retired' as const, statusChanges: [{ atMs: 0, status: 'active' as const }, { atMs: AS_OF - 60_000, status: 'retired' as const }] },
      { templateId: 'live@v1', parentTemplateId: '', status: 'active' as const },
    ];
    const weekly = await renderReport(buildReport('weekly', { rows: [one], templates, refinements }, AS_OF, RULES), 'md');
    expect(weekly).toContain('| old@v1#1 | old@v1 (retired) | below_threshold |');
    expect(weekly).toContain('| live@v1#1 | live@v1 | below_threshold |');
    // As of before the retire, it was not.
    const before = await renderReport(buildReport('weekly', { rows: [one], templates, refinements }, AS_OF - 120_000, RULES), 'md');
    expect(before).toContain('| old@v1#1 | old@v1 | below_threshold |');
  });

  test('the weekly\'s top failure patterns say when each was last seen', async () => {
    // The patterns are counted over the whole log: one that stopped two months ago (its template was
    // fixed) still led this week's summary, with nothing to tell it from one that fails every day.
    const DAY = 86_400_000;
    const fail = (i: number, reason: string, daysAgo: number): RunRow => ({ ...one, runId: `${reason}-${i}`, taskId: `${reason}-${i}`, outcome: 'fail', failureReason: reason, finishedAtMs: AS_OF - daysAgo * DAY });
    const rows = [...[0, 1, 2].map((i) => fail(i, 'changelog entry missing', 60 + i)), fail(9, 'lint failed', 1)];
    const weekly = await renderReport(buildReport('weekly', data(rows), AS_OF, RULES), 'md');
    const section = weekly.slice(weekly.indexOf('## Top failure patterns'));
    expect(section).toContain('| signature | count | last seen | templates |');
    expect(section).toContain(`| fail: changelog entry missing | 3 | ${fmt.date(AS_OF - 60 * DAY)} |`);
    expect(section).toContain(`| fail: lint failed | 1 | ${fmt.date(AS_OF - DAY)} |`);
  });
});
