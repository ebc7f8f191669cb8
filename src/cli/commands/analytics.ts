/**
 * Learning-analytics commands: `import runs`, `report scores|trend|failures|weekly` and
 * `refinements list|scan|accept|reject`. Thin: parse flags, call the library, print.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { importRuns, loadFieldMap } from '../../importers/import-runs.js';
import { PACKAGE_ROOT } from '../../paths.js';
import {
  failuresReport,
  outcomesReport,
  renderReport,
  REPORT_FORMATS,
  scoresReport,
  trendReport,
  validateRules,
  weeklyReport,
  type RemediationRules,
  type ReportFormat,
  type ReportModel,
  type TimedDecision,
  type TrendOptions,
} from '../../reports/index.js';
import type { RefinementRecord } from '../../bandit/index.js';
import { reportData, type ReportData } from '../../service/refinement-queue.js';
import type { LearnLoop } from '../../service/learnloop.js';
import type { CliHelpers } from '../context.js';
import { dateFlag } from '../dates.js';
import { table } from '../format.js';
import { joinDecisions } from '../../ope/index.js';

/** `learnloop import runs PATH... [--field-map FILE]`: dispatcher run records into the log. */
export async function importRunsCommand(paths: readonly string[], opts: Record<string, unknown>, h: CliHelpers): Promise<void> {
  if (paths.length === 0) throw h.userError('import runs: name at least one file or folder of run records');
  // Checked before the store opens, so a mistyped path makes no store (with --create) and no partial import.
  for (const p of paths) if (!existsSync(p)) throw h.userError(`import runs: no such file or folder: ${p}`);
  let map = {};
  if (typeof opts.fieldMap === 'string') {
    try {
      map = loadFieldMap(opts.fieldMap);
    } catch (err) {
      throw h.userError((err as Error).message);
    }
  }
  const rules = opts.scan === false ? undefined : withCatch(h, () => loadRules(typeof opts.rules === 'string' ? opts.rules : undefined));
  const summary = await h.withApp(opts, async (app) => {
    const imported = await importRuns(app.learnloop, paths, map);
    // New evidence may put a template below the threshold: open items now rather than at the next scan.
    const scan = rules === undefined || imported.applied === 0 ? undefined : await app.refinements.scan(Date.now(), rules);
    return { ...imported, refinementsOpened: scan?.opened.map((r) => r.refinementId) ?? [] };
  });
  h.print(opts.json === true, summary, () =>
    [
      `${summary.applied} applied, ${summary.duplicates} duplicates, ${summary.skipped.length} skipped (of ${summary.records} records${summary.pairedResults > 0 ? `, ${summary.pairedResults} of them results paired with their runs` : ''})` +
        (summary.classified > 0 ? `; task class read from the prompt for ${summary.classified} (the record named none)` : ''),
      ...summary.skipped.slice(0, 50).map((s) => `  skipped ${s.source}: ${s.reason}`),
      ...(summary.skipped.length > 50 ? [`  ... and ${summary.skipped.length - 50} more (use --json)`] : []),
      ...(summary.refinementsOpened.length > 0 ? [`refinement items opened: ${summary.refinementsOpened.join(', ')} (learnloop refinements list)`] : []),
    ].join('\n'),
  );
  // Records skipped for an error are rejected input, as `import FILE.jsonl`'s rejected lines; a run still running, or the runner's status file, is not.
  if (summary.skipped.length > summary.stillRunning + summary.statusFiles) process.exitCode = 2;
}

export const DEFAULT_RULES_FILE = join(PACKAGE_ROOT, 'rules', 'remediations.json');

/**
 * `--as-of`: a date (YYYY-MM-DD, meaning the end of that UTC day) or an ISO 8601 time (UTC without a zone); default now.
 * @returns ms since the epoch
 * @throws UserError for a value that is not a date, or a day that does not exist
 */
export function parseAsOf(value: unknown, now: () => number = Date.now): number {
  return value === undefined ? now() : dateFlag('--as-of', value, 'end');
}

/** Reads and checks the remediation rules file. @throws Error naming every problem. */
export function loadRules(file: string = DEFAULT_RULES_FILE): RemediationRules {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`rules file ${file}: ${(err as Error).message}`);
  }
  const problems = validateRules(raw);
  if (problems.length > 0) throw new Error(`rules file ${file}: ${problems.join('; ')}`);
  return raw as RemediationRules;
}

/**
 * The reports keep an entry per window or per day, so their flags are bounded: 1,000 windows (19
 * years of weeks), windows of up to 10 years, spans of up to 100 years. Past these a careless value
 * (100,000,000 windows; 10,000 years) ran for minutes and gigabytes, and 1e308 ended in a stack.
 */
const MAX_WINDOWS = 1000;
const MAX_WINDOW_DAYS = 3660;
const MAX_SPAN_DAYS = 36_600;

function intFlag(h: CliHelpers, name: string, v: unknown, max?: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || (max !== undefined && n > max)) throw h.userError(`--${name}: must be an integer ${max === undefined ? '>= 1' : `in [1, ${max}]`}; got ${String(v)}`);
  return n;
}

function trendFlags(h: CliHelpers, opts: Record<string, unknown>): Partial<TrendOptions> {
  const out: { -readonly [K in keyof TrendOptions]?: TrendOptions[K] } = {};
  const windowDays = intFlag(h, 'window-days', opts.windowDays, MAX_WINDOW_DAYS);
  const windows = intFlag(h, 'windows', opts.windows, MAX_WINDOWS);
  if (windowDays !== undefined) out.windowDays = windowDays;
  if (windows !== undefined) out.windows = windows;
  return out;
}

/**
 * `--since`: a date (YYYY-MM-DD, meaning the start of that UTC day) or an ISO 8601 time (UTC without a zone).
 * @returns ms since the epoch
 * @throws UserError for a value that is not a date, or a day that does not exist
 */
export function parseSince(value: unknown): number {
  return dateFlag('--since', value, 'start');
}

/** What `report outcomes` reads beyond the as-of date: its window and look-back. */
export interface OutcomesFlags {
  readonly sinceMs: number;
  readonly repeatWindowDays?: number;
}

const DEFAULT_OUTCOMES_DAYS = 70;
const MS_PER_DAY = 86_400_000;

function outcomesFlags(h: CliHelpers, opts: Record<string, unknown>, untilMs: number): OutcomesFlags {
  const days = intFlag(h, 'days', opts.days, MAX_SPAN_DAYS) ?? DEFAULT_OUTCOMES_DAYS;
  const sinceMs = opts.since === undefined ? untilMs + 1 - days * MS_PER_DAY : withCatch(h, () => parseSince(opts.since));
  if (!(sinceMs < untilMs)) throw h.userError(`--since: must be before --until; got ${String(opts.since)}`);
  const spanDays = Math.ceil((untilMs + 1 - sinceMs) / MS_PER_DAY);
  if (spanDays > MAX_SPAN_DAYS) {
    throw h.userError(`--since: the window may span at most ${MAX_SPAN_DAYS} days (100 years); got ${String(opts.since)} to ${new Date(untilMs).toISOString().slice(0, 10)}, ${spanDays} days`);
  }
  const repeatWindowDays = intFlag(h, 'repeat-window-days', opts.repeatWindowDays, MAX_SPAN_DAYS);
  return repeatWindowDays === undefined ? { sinceMs } : { sinceMs, repeatWindowDays };
}

/** The log's rows, and its decisions joined with their outcomes when a report needs them. */
export type ReportInput = ReportData & {
  readonly decisions?: readonly TimedDecision[];
  /** Each template's evidence label over the whole log, as `scores` shows it. */
  readonly evidence?: ReadonlyMap<string, string>;
};

/** The evidence label of every template's posterior over all runs (the segment `scores` shows with no flags). */
export async function evidenceLabels(learnloop: LearnLoop): Promise<Map<string, string>> {
  return new Map((await learnloop.scores('', '')).map((c) => [c.templateId, c.evidenceLabel]));
}

/** Builds one report from the log: the reading is here, the computing in src/reports. */
export function buildReport(
  name: string,
  data: ReportInput,
  asOfMs: number,
  rules: RemediationRules,
  trend: Partial<TrendOptions> = {},
  outcomes: OutcomesFlags = { sinceMs: asOfMs + 1 - DEFAULT_OUTCOMES_DAYS * MS_PER_DAY },
): ReportModel {
  const decisions = data.decisions ?? [];
  switch (name) {
    case 'scores':
      return scoresReport(data.rows, asOfMs, data.evidence);
    case 'trend':
      return trendReport(data.rows, asOfMs, trend);
    case 'failures':
      return failuresReport(data.rows, asOfMs, rules);
    case 'weekly':
      return weeklyReport({ ...data, decisions, rules, asOfMs, trend });
    case 'outcomes':
      return outcomesReport({ ...data, decisions, rules, untilMs: asOfMs, ...outcomes });
    default:
      throw new Error(`unknown report ${name}`);
  }
}

const REPORTS: ReadonlyArray<[string, string]> = [
  ['scores', 'per template, task class and repository: runs, pass rate (95% CI), first-try pass, retry, timeout, median duration'],
  ['trend', 'rates per week (or --window-days), overall and per template, with a change detector; HTML has charts'],
  ['failures', 'failure signatures, recurring patterns per template and segment, remediations from the rules file'],
  ['weekly', 'strategy summary: improved, regressed, default template per task class, open refinements, top failures, scoreboard'],
  ['outcomes', 'is the loop working: pass rate, retry rate and repeated failures start vs end, off-policy lift, refinement effects'],
];

/** Reports whose scoreboard shows the off-policy lift, so the log's decisions are read for them. */
const NEEDS_DECISIONS = new Set(['weekly', 'outcomes']);

function withCatch<T>(h: CliHelpers, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw h.userError((err as Error).message);
  }
}

/** One item as a table row; an open item on a retired template says so, as the weekly does. */
function refinementLine(r: RefinementRecord, retired: ReadonlySet<string>): string[] {
  const when = (ms: number) => (ms > 0 ? new Date(ms).toISOString().slice(0, 10) : '');
  return [r.refinementId, retired.has(r.templateId) && r.status === 'open' ? `${r.templateId} (retired)` : r.templateId, r.status, r.trigger, when(r.openedAtMs), r.status === 'open' ? r.summary : `${r.actor}: ${r.reason}${r.newTemplateId ? ` -> ${r.newTemplateId}` : ''}`];
}

/** A decision that repeated the recorded one: say so, and whose it is, as `observe` says duplicate. */
const resent = (r: RefinementRecord) =>
  `${r.refinementId} was already ${r.status} by ${r.actor} at ${new Date(r.decidedAtMs).toISOString()} (the same decision; nothing changed)`;

/** Attaches the analytics commands to the program (the `report` group must exist already). */
export function registerAnalytics(program: Command, h: CliHelpers): void {
  const report = program.commands.find((c) => c.name() === 'report');
  if (report === undefined) throw new Error('registerAnalytics: the report command group must be created first');
  for (const [name, description] of REPORTS) {
    const cmd = h
      .withSettings(report.command(name).description(description), ['db'])
      .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS as string[]).default('md'))
      .option('--as-of <date>', 'report date: YYYY-MM-DD (end of that UTC day) or ISO time (UTC without a zone); default now')
      .option('--out <file>', 'write the report to a file instead of stdout')
      .option('--rules <file>', 'remediation rules file', DEFAULT_RULES_FILE);
    if (name === 'trend' || name === 'weekly') {
      cmd.option('--windows <n>', 'windows shown (default 8)').option('--window-days <n>', 'window length in days (default 7)');
    }
    if (name === 'outcomes') {
      cmd
        .option('--until <date>', 'end of the window: YYYY-MM-DD (end of that UTC day) or ISO time (UTC without a zone); same as --as-of')
        .option('--since <date>', 'start of the window: YYYY-MM-DD (start of that UTC day) or ISO time (UTC without a zone); default --days before --until')
        .option('--days <n>', `window length in days when --since is not given (default ${DEFAULT_OUTCOMES_DAYS})`)
        .option('--repeat-window-days <n>', 'a failure repeats when its pattern was seen this many days before (default 14)');
    }
    cmd.action(async (opts: Record<string, unknown>) => {
      if (opts.until !== undefined && opts.asOf !== undefined) throw h.userError('--until and --as-of name the same date: give one');
      const asOfMs = opts.until === undefined ? parseAsOf(opts.asOf) : dateFlag('--until', opts.until, 'end');
      const rules = withCatch(h, () => loadRules(String(opts.rules)));
      const trend = trendFlags(h, opts);
      const outcomes = name === 'outcomes' ? outcomesFlags(h, opts, asOfMs) : undefined;
      const text = await h.withApp(opts, async (app) => {
        const data = {
          ...(await reportData(app.store)),
          ...(NEEDS_DECISIONS.has(name) ? { decisions: (await joinDecisions(app.store.events(), app.store.policy)).decisions } : {}),
          ...(name === 'scores' ? { evidence: await evidenceLabels(app.learnloop) } : {}),
        };
        return await renderReport(buildReport(name, data, asOfMs, rules, trend, outcomes), opts.format as ReportFormat);
      });
      if (typeof opts.out === 'string') {
        try {
          writeFileSync(opts.out, text);
        } catch (err) {
          throw h.userError(`--out ${opts.out}: cannot write: ${(err as Error).message}`);
        }
      } else process.stdout.write(text);
    });
  }

  const refinements = program.command('refinements').description('the refinement queue: templates that need a person (on --db)');
  h.withSettings(refinements.command('list').description('list refinement items'), ['db'])
    .addOption(new Option('--status <status>', 'only items with this status').choices(['open', 'accepted', 'rejected']))
    .option('--json', 'print JSON (with evidence)')
    .action(async (opts: Record<string, unknown>) => {
      const { items, retired } = await h.withApp(opts, async (app) => ({
        items: await app.refinements.list(opts.status as 'open' | 'accepted' | 'rejected' | undefined),
        retired: new Set((await app.store.templates()).filter((t) => t.status === 'retired').map((t) => t.templateId)),
      }));
      h.print(opts.json === true, items, () => table(['item', 'template', 'status', 'trigger', 'opened', 'evidence / decision'], items.map((r) => refinementLine(r, retired))));
    });
  h.withSettings(
    refinements
      .command('scan')
      .summary('open items for templates credibly below the threshold or regressing')
      .description(
        'open items for templates credibly below the threshold or regressing. After a person rejects or accepts a template\'s item, ' +
          'no new item is opened for it until it has --min-runs judged runs that finished after the decision and, on those ' +
          'runs alone, the pass rate is still credibly below the threshold (or a regression is dated after the decision); ' +
          'scanning the same log again never reopens a decided item, whatever --as-of',
      ),
    ['db'],
  )
    .option('--as-of <date>', 'YYYY-MM-DD or ISO time (UTC without a zone); default now')
    .option('--threshold <rate>', 'pass rate a template should reach', '0.5')
    .option('--min-runs <n>', 'fewest judged runs before the threshold test applies', '10')
    .option('--rules <file>', 'remediation rules file', DEFAULT_RULES_FILE)
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => {
      const asOfMs = withCatch(h, () => parseAsOf(opts.asOf));
      const rules = withCatch(h, () => loadRules(String(opts.rules)));
      const threshold = Number(opts.threshold);
      if (!(threshold > 0 && threshold < 1)) throw h.userError(`--threshold: must be in (0, 1); got ${String(opts.threshold)}`);
      const minRuns = intFlag(h, 'min-runs', opts.minRuns) ?? 10;
      const r = await h.withApp(opts, (app) => app.refinements.scan(asOfMs, rules, { threshold, minRuns }));
      h.print(opts.json === true, r, () =>
        [
          `${r.opened.length} opened`,
          ...r.opened.map((x) => `  opened ${x.refinementId}: ${x.summary}`),
          ...r.suppressed.map((x) => `  held back ${x.templateId}: ${x.reason}`),
        ].join('\n'),
      );
    });
  h.withSettings(refinements.command('accept <refinementId>').description('accept an item: registers the new template version with its parent'), ['db'])
    .requiredOption('--by <name>', 'who accepts')
    .requiredOption('--reason <text>', 'why')
    .requiredOption('--new-template <id>', 'the new template version, e.g. bug-fix@v3 (you wrote its prompt)')
    .option('--description <text>', 'what changed in the prompt', '')
    .addOption(new Option('--status <status>', 'status of the new version').choices(['candidate', 'active']).default('candidate'))
    .option('--json', 'print JSON')
    .action(async (refinementId: string, opts: Record<string, unknown>) => {
      const r = await h.withApp(opts, (app) =>
        app.refinements.accept({
          refinementId,
          actor: String(opts.by),
          reason: String(opts.reason),
          newTemplateId: String(opts.newTemplate),
          description: String(opts.description),
          status: opts.status as 'candidate' | 'active',
        }),
      );
      h.print(opts.json === true, r, () =>
        r.duplicate ? resent(r.record) : `accepted ${refinementId}; registered ${r.template.templateId} (${r.template.status}) with parent ${r.template.parentTemplateId}`,
      );
    });
  h.withSettings(refinements.command('reject <refinementId>').description('reject an item'), ['db'])
    .requiredOption('--by <name>', 'who rejects')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (refinementId: string, opts: Record<string, unknown>) => {
      const r = await h.withApp(opts, (app) => app.refinements.reject({ refinementId, actor: String(opts.by), reason: String(opts.reason) }));
      h.print(opts.json === true, r, () => (r.duplicate ? resent(r.record) : `rejected ${refinementId}`));
    });
}
