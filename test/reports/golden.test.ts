import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { buildReport } from '../../src/cli/commands/analytics.js';
import { renderMarkdown, renderReport, REPORT_FORMATS, type ReportFormat } from '../../src/reports/index.js';
import { RefinementQueue, type ReportData } from '../../src/service/refinement-queue.js';
import type { LmdbStore } from '../../src/store/index.js';
import { AS_OF, CLOCK, fixtureLog, RULES } from './fixture-log.js';

const NAMES = ['scores', 'trend', 'failures', 'weekly', 'outcomes'] as const;
const EXT: Record<ReportFormat, string> = { md: 'md', json: 'json', html: 'html' };

let store: LmdbStore;
let data: ReportData;
// Built once for the file (the tmp helper would remove its folder after the first test).
const dir = mkdtempSync(join(tmpdir(), 'learnloop-golden-'));

beforeAll(async () => {
  const log = await fixtureLog(join(dir, 'db'));
  store = log.store;
  data = await log.data();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report golden files (fixture log, as of 2026-03-01)', () => {
  test.each(NAMES.flatMap((n) => REPORT_FORMATS.map((f) => [n, f] as const)))('%s as %s matches its golden file', async (name, format) => {
    const text = await renderReport(buildReport(name, data, AS_OF, RULES), format);
    await expect(text).toMatchFileSnapshot(`__golden__/${name}.${EXT[format]}`);
  });

  test('the same log and as-of date give byte-identical output, also from a second import', async () => {
    const again = await fixtureLog();
    try {
      for (const name of NAMES) {
        for (const format of REPORT_FORMATS) {
          const a = await renderReport(buildReport(name, data, AS_OF, RULES), format);
          const b = await renderReport(buildReport(name, await again.data(), AS_OF, RULES), format);
          expect(b, `${name}.${format}`).toBe(a);
        }
      }
    } finally {
      await again.store.close();
    }
  });

  test('a later as-of date sees later runs; an earlier one leaves them out', () => {
    const early = buildReport('scores', data, Date.parse('2026-01-31T23:59:59.999Z'), RULES);
    const late = buildReport('scores', data, AS_OF, RULES);
    if (early.kind !== 'scores' || late.kind !== 'scores') throw new Error('expected scores');
    expect(early.overall.runs).toBeLessThan(late.overall.runs);
    expect(late.overall.runs).toBe(data.rows.length);
  });

  test('the weekly report lists the items open at its as-of time, however the queue moved since', async () => {
    const open = (d: typeof data) => {
      const r = buildReport('weekly', d, AS_OF, RULES);
      if (r.kind !== 'weekly') throw new Error('expected weekly');
      return r.openRefinements;
    };
    const before = open(data);
    expect(before.map((r) => [r.refinementId, r.status])).toEqual([['custom#1', 'open'], ['feature@v1#1', 'open']]);
    const later = await fixtureLog();
    try {
      // Decided the next day: still open as of AS_OF. A report a day before the scan lists none.
      await new RefinementQueue(later.store, DEFAULT_LIMITS, () => AS_OF + 86_400_000).reject({ refinementId: 'custom#1', actor: 'maria', reason: 'known gap' });
      expect(open(await later.data())).toEqual(before);
      const r = buildReport('weekly', await later.data(), AS_OF - 86_400_000, RULES);
      expect(r.kind === 'weekly' && r.openRefinements).toEqual([]);
    } finally {
      await later.store.close();
    }
  });

  test('a later retire does not rewrite a past weekly report; a class left with no template says none, not "weak"', async () => {
    const later = await fixtureLog();
    try {
      // Retired at the fixture clock, after AS_OF.
      await later.ll.registerTemplate({ templateId: 'feature@v1', parentTemplateId: '', status: 'retired', description: '' });
      const md = async (asOfMs: number) => renderReport(buildReport('weekly', await later.data(), asOfMs, RULES), 'md');
      expect(await md(AS_OF)).toBe(await renderReport(buildReport('weekly', data, AS_OF, RULES), 'md'));
      const after = buildReport('weekly', await later.data(), CLOCK, RULES);
      if (after.kind !== 'weekly') throw new Error('expected weekly');
      expect(after.recommendations.find((r) => r.taskClass === 'feature')).toMatchObject({ templateId: '', confidence: 'none' });
      expect(await md(CLOCK)).toContain('| feature | none: every template with runs here was retired | 0 | – | – | – | – | – |');
    } finally {
      await later.store.close();
    }
  });

  test('the weekly counts in words that agree with the number: "1 run on 1 task"', async () => {
    const one = { ...data, rows: [{ ...data.rows.at(-1)!, finishedAtMs: AS_OF - 1000 }] };
    expect(await renderReport(buildReport('weekly', one, AS_OF, RULES), 'md')).toContain('This week: 1 run on 1 task;');
  });

  test('output embeds no absolute path and no current time', async () => {
    for (const name of NAMES) {
      for (const format of REPORT_FORMATS) {
        const text = await renderReport(buildReport(name, data, AS_OF, RULES), format);
        expect(text).not.toContain(process.cwd());
        expect(text).not.toContain(new Date().toISOString().slice(0, 10));
      }
    }
  });
});

describe('Markdown shows text from the log as text', () => {
  test('a "<" in an id or a signature is escaped wherever it lands, so no renderer reads it as HTML', () => {
    const hostile = 'tpl"><img src=x onerror=alert(1)></script><script>alert(2)</script>@v1';
    const md = renderMarkdown({
      title: `Report on ${hostile}`,
      subtitle: 'as of today',
      blocks: [
        { kind: 'heading', level: 2, text: hostile },
        { kind: 'para', text: `about ${hostile}, p<0.001` },
        { kind: 'list', items: ['fail: exit 1: <n> failing tests in <path>', hostile] },
        { kind: 'table', headers: ['signature', 'templates'], rows: [['fail: merge conflict in <path>', `${hostile} | x`]] },
      ],
    });
    // Every "<" that could open a tag is preceded by a backslash: a literal character in CommonMark.
    expect(md.match(/(?<!\\)<(?=[A-Za-z/!?])/g)).toBeNull();
    expect(md).toContain(', p<0.001');
    expect(md).toContain('\\<n> failing tests in \\<path>');
    expect(md).toContain('tpl">\\<img src=x onerror=alert(1)>');
    expect(md).toContain('\\</script>@v1 \\| x |');
  });
});
