import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
const RUNS = join(PACKAGE_ROOT, 'test', 'fixtures', 'runs', 'synthetic-runs.jsonl');
const REAL = join(PACKAGE_ROOT, 'test', 'fixtures', 'athena', 'run__athena-web__bd-1nn.json');
const GOLDEN = join(PACKAGE_ROOT, 'test', 'reports', '__golden__');

beforeAll(() => {
  // The command runs compiled code: `npm ci` builds it (prepare); rebuild after editing src/.
  expect(existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'commands', 'analytics.js')), 'dist/ is built').toBe(true);
});

describe('learnloop import runs / report / refinements', () => {
  test('import runs is idempotent and import FILE.jsonl still takes ObserveRequests', () => {
    const db = join(tmpDir(), 'db');
    const first = cli('import', 'runs', RUNS, REAL, '--db', db, '--create', '--json');
    expect(first.status, first.stderr).toBe(0);
    // The scan after import runs as of now: custom is credibly below 50%; feature@v1's regression
    // was in February, so no window ending now shows it.
    expect(JSON.parse(first.stdout)).toMatchObject({ records: 202, applied: 202, duplicates: 0, skipped: [], refinementsOpened: ['custom#1'] });
    const again = cli('import', 'runs', RUNS, REAL, '--db', db);
    expect(again.stdout).toMatch(/^0 applied, 202 duplicates, 0 skipped \(of 202 records\)/);
    const jsonl = join(tmpDir(), 'obs.jsonl');
    writeFileSync(jsonl, '{"runId":"x1","templateId":"t@v1","outcome":"OUTCOME_UNVERIFIED"}\n');
    const plain = cli('import', jsonl, '--db', db, '--json');
    expect(plain.status, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ applied: 1 });
    expect(cli('import', 'runs', '--db', db).status).toBe(2);
    expect(cli('import', 'runs', RUNS, '--db', db, '--field-map', jsonl).stderr).toMatch(/--field-map/);
  });

  test('report scores through the command line equals the golden file, and --out writes it', () => {
    const db = join(tmpDir(), 'db');
    expect(cli('import', 'runs', RUNS, '--db', db, '--create').status).toBe(0);
    const md = cli('report', 'scores', '--db', db, '--as-of', '2026-03-01');
    expect(md.status, md.stderr).toBe(0);
    expect(md.stdout).toBe(readFileSync(join(GOLDEN, 'scores.md'), 'utf8'));
    const out = join(tmpDir(), 'trend.html');
    expect(cli('report', 'trend', '--db', db, '--as-of', '2026-03-01', '--format', 'html', '--out', out).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(GOLDEN, 'trend.html'), 'utf8'));
    expect(cli('report', 'failures', '--db', db, '--as-of', 'yesterday').status).toBe(2);
    expect(cli('report', 'weekly', '--db', db, '--format', 'pdf').status).not.toBe(0);
  });

  test('report outcomes takes its window from --since/--until or --days, and refuses a window that ends before it starts', () => {
    const db = join(tmpDir(), 'db');
    expect(cli('import', 'runs', RUNS, '--db', db, '--create', '--no-scan').status).toBe(0);
    const r = cli('report', 'outcomes', '--db', db, '--since', '2026-01-05', '--until', '2026-03-01', '--format', 'json');
    expect(r.status, r.stderr).toBe(0);
    const model = JSON.parse(r.stdout) as { kind: string; options: { sinceMs: number; untilMs: number }; metrics: Array<{ metric: string }> };
    expect(model.kind).toBe('outcomes');
    expect(model.options).toMatchObject({ sinceMs: Date.parse('2026-01-05T00:00:00Z'), untilMs: Date.parse('2026-03-01T23:59:59.999Z') });
    expect(model.metrics.map((m) => m.metric)).toEqual(['pass_rate', 'retry_rate', 'repeat_share']);
    const byDays = cli('report', 'outcomes', '--db', db, '--as-of', '2026-03-01', '--days', '56', '--format', 'json');
    expect((JSON.parse(byDays.stdout) as typeof model).options.sinceMs).toBe(Date.parse('2026-01-05T00:00:00Z'));
    const reversed = cli('report', 'outcomes', '--db', db, '--since', '2026-03-05', '--until', '2026-03-01');
    expect(reversed.status).toBe(2);
    expect(reversed.stderr).toMatch(/--since: must be before --until/);
    expect(cli('report', 'outcomes', '--db', db, '--until', '2026-03-01', '--as-of', '2026-03-01').stderr).toMatch(/--until and --as-of/);
    expect(cli('report', 'outcomes', '--db', db, '--days', '0').stderr).toMatch(/--days: must be an integer in \[1, 36600\]/);
  });

  // A report's windows are arrays, one entry per window or day: a careless flag (100,000,000 windows,
  // 10,000 years) ran for minutes past 3 GB, and 1e308 ended in a RangeError's stack.
  test.each<[string[], RegExp]>([
    [['trend', '--windows', '100000000'], /^learnloop: --windows: must be an integer in \[1, 1000\]; got 100000000$/],
    [['trend', '--windows', '1e308'], /^learnloop: --windows: must be an integer in \[1, 1000\]; got 1e308$/],
    [['weekly', '--window-days', '1e308'], /^learnloop: --window-days: must be an integer in \[1, 3660\]; got 1e308$/],
    [['outcomes', '--days', '3650000'], /^learnloop: --days: must be an integer in \[1, 36600\]; got 3650000$/],
    [['outcomes', '--since', '0001-01-01'], /^learnloop: --since: the window may span at most 36600 days \(100 years\); got 0001-01-01 to 2026-03-01, 739676 days$/],
    [['outcomes', '--repeat-window-days', '1e308'], /^learnloop: --repeat-window-days: must be an integer in \[1, 36600\]; got 1e308$/],
  ])('report %j is refused in one line naming the flag and its range, before reading the log', (args, message) => {
    const r = cli('report', ...args, '--db', join(tmpDir(), 'none'), '--as-of', '2026-03-01');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  });

  test('refinements scan, list, accept and reject', () => {
    const db = join(tmpDir(), 'db');
    expect(cli('import', 'runs', RUNS, '--db', db, '--create', '--no-scan').stdout).not.toMatch(/opened/);
    const scan = cli('refinements', 'scan', '--db', db, '--as-of', '2026-03-01');
    expect(scan.stdout).toMatch(/^2 opened\n  opened custom#1: /);
    const list = JSON.parse(cli('refinements', 'list', '--db', db, '--status', 'open', '--json').stdout) as Array<{ refinementId: string }>;
    expect(list.map((r) => r.refinementId)).toEqual(['custom#1', 'feature@v1#1']);
    const accept = cli('refinements', 'accept', 'feature@v1#1', '--db', db, '--by', 'maria', '--reason', 'verify step', '--new-template', 'feature@v2');
    expect(accept.stdout).toBe('accepted feature@v1#1; registered feature@v2 (candidate) with parent feature@v1\n');
    expect(cli('refinements', 'reject', 'custom#1', '--db', db, '--by', 'li', '--reason', 'catch-all').stdout).toBe('rejected custom#1\n');
    // The same scan again does not undo the rejection, and says why (feature@v1 may get its next item: it was accepted, not rejected).
    const rescan = cli('refinements', 'scan', '--db', db, '--as-of', '2026-03-01');
    expect(rescan.stdout).not.toMatch(/opened custom#/);
    expect(rescan.stdout).toMatch(/\n {2}held back custom: custom#1 was rejected by li on \d{4}-\d\d-\d\d; a new item needs 10 judged runs finished since then, and it has 0\n/);
    // A resend says nothing changed; another person's decision is refused, naming li's.
    const resend = cli('refinements', 'reject', 'custom#1', '--db', db, '--by', 'li', '--reason', 'catch-all');
    expect(resend.status).toBe(0);
    expect(resend.stdout).toMatch(/^custom#1 was already rejected by li at \d{4}-\d\d-\d\dT[\d:.]+Z \(the same decision; nothing changed\)\n$/);
    const mallory = cli('refinements', 'reject', 'custom#1', '--db', db, '--by', 'mallory', '--reason', 'different person');
    expect(mallory.status).toBe(1);
    expect(mallory.stderr).toMatch(/^learnloop: FAILED_PRECONDITION: refinement_id: item "custom#1" was already rejected by "li" at .*; nothing changed .*\(LL_REFINEMENT_NOT_OPEN\)\n$/);
    expect(JSON.parse(cli('refinements', 'list', '--db', db, '--status', 'rejected', '--json').stdout)).toMatchObject([{ refinementId: 'custom#1', actor: 'li', reason: 'catch-all' }]);
    const again = cli('refinements', 'reject', 'feature@v1#1', '--db', db, '--by', 'li', '--reason', 'no');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^learnloop: FAILED_PRECONDITION: .*\(LL_REFINEMENT_NOT_OPEN\)\n$/);
    const templates = JSON.parse(cli('templates', 'list', '--db', db, '--json').stdout) as Array<{ templateId: string; parentTemplateId: string }>;
    expect(templates.find((t) => t.templateId === 'feature@v2')?.parentTemplateId).toBe('feature@v1');
    const weekly = cli('report', 'weekly', '--db', db, '--as-of', '2026-03-01');
    expect(weekly.stdout).toContain('## Open refinements\n\n_none_');
  });
});
