/**
 * `report failures`: failure reasons and verification signals normalised into signatures,
 * recurring patterns counted per template and segment, each mapped to a remediation through the
 * versioned rules file (rules/remediations.json) that maintainers edit.
 */
import { byString, rowsAsOf, type RunRow } from './rows.js';

/** One maintainer-written rule: signatures matching `match` get `action`, for `rationale`. */
export interface RemediationRule {
  readonly id: string;
  /** Regular expression (JavaScript syntax, case-insensitive) tested against the signature. */
  readonly match: string;
  readonly action: string;
  readonly rationale: string;
}

export interface RemediationRules {
  /** Bumped by maintainers on every change, and printed in reports. */
  readonly version: number;
  readonly rules: readonly RemediationRule[];
}

/** Checks a parsed rules file. @returns every problem (empty when valid). */
export function validateRules(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['rules file must be a JSON object'];
  const r = raw as { version?: unknown; rules?: unknown };
  const out: string[] = [];
  if (typeof r.version !== 'number' || !Number.isInteger(r.version) || r.version < 1) out.push(`version: must be an integer >= 1; got ${String(r.version)}`);
  if (!Array.isArray(r.rules)) return [...out, 'rules: must be a list'];
  const ids = new Set<string>();
  r.rules.forEach((rule: unknown, i) => {
    const x = (rule ?? {}) as Record<string, unknown>;
    for (const f of ['id', 'match', 'action', 'rationale']) {
      if (typeof x[f] !== 'string' || x[f] === '') out.push(`rules[${i}].${f}: must be a non-empty string`);
    }
    if (typeof x.id === 'string') {
      if (ids.has(x.id)) out.push(`rules[${i}].id: duplicates ${JSON.stringify(x.id)}`);
      ids.add(x.id);
    }
    if (typeof x.match === 'string') {
      try {
        new RegExp(x.match, 'i');
      } catch (err) {
        out.push(`rules[${i}].match: not a regular expression: ${(err as Error).message}`);
      }
    }
  });
  return out;
}

const NOT_FAILURES = new Set(['pass']);

/**
 * A failure's signature: its outcome and its reason with the varying parts (paths, URLs, hashes,
 * quoted text, numbers) replaced by placeholders, so the same problem on different runs reads the
 * same. Exit codes are kept (see NUMBER_OR_EXIT_CODE for the wordings): exit 137 (killed) and
 * exit 1 are different problems. The run's own task id (letters and digits), where the reason
 * names it (athena's session `agent-bd-1nn`), reads `<task>`: a bead id such as `bd-1nn` is no number
 * or hash, and left in it made the same failure a new pattern on every task.
 */
export function failureSignature(outcome: string, reason: string, taskId = ''): string {
  // Such a reason is its task's alone: nothing to gain from caching it.
  if (namesTask(reason, taskId)) return signatureOf(outcome, reason, taskId);
  // A large log repeats its reasons: each is normalised once (the failures report and the
  // repeated-failure count both ask), in a cache emptied when it grows large.
  let byReason = signatures.get(outcome);
  if (byReason === undefined) signatures.set(outcome, (byReason = new Map()));
  let sig = byReason.get(reason);
  if (sig === undefined) {
    if (++cached > MAX_CACHED_SIGNATURES) {
      signatures.clear();
      signatures.set(outcome, byReason);
      byReason.clear();
      cached = 1;
    }
    byReason.set(reason, (sig = signatureOf(outcome, reason)));
  }
  return sig;
}

const MAX_CACHED_SIGNATURES = 100_000;
const signatures = new Map<string, Map<string, string>>();
let cached = 0;

/**
 * A number, or an exit code with the words before it (group 1): "exit 137", "exit code 137",
 * "exit status 1", "exited with code 1", "exited with status 2", "exit_code=137", "exitcode: 1".
 * "returned 1" is not among them: "returned" counts things too ("returned 3 rows").
 */
const NUMBER_OR_EXIT_CODE = /(\bexit(?:ed(?: with)?)?[ _]?(?:code|status)?[:=]? ?)-?\d+\b|-?\b\d+(?:\.\d+)?\b/g;

/**
 * A task id that the reason holds, made of letters and digits both: a numeric one is a number like any
 * other (exit codes kept), and one without a digit may be a word the reason uses ("docs").
 */
function namesTask(reason: string, taskId: string): boolean {
  return /[a-z]/i.test(taskId) && /\d/.test(taskId) && reason.toLowerCase().includes(taskId.toLowerCase());
}

/** Matches nowhere, not even in an empty text. */
const NOTHING = /(?!)/g;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @param namedTask the run's task id when the reason names it (namesTask), to read `<task>` */
function signatureOf(outcome: string, reason: string, namedTask?: string): string {
  // The task id whole: not inside a longer word (bd-1nn is not in bd-1nnx).
  const task = namedTask === undefined ? NOTHING : new RegExp(`(?<![a-z0-9_])${escapeRegExp(namedTask.toLowerCase())}(?![a-z0-9_])`, 'g');
  const text = reason
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/(["'`])(?:(?!\1).){1,200}\1/g, '<str>')
    .replace(/(?:[a-z]:)?(?:[\w.$~-]*\/)+[\w.-]+/g, '<path>')
    .replace(/\b[\w-]+(?:\.[\w-]+)*\.(?:[cm]?[jt]sx?|json|py|go|rs|md|ya?ml|toml|sh|lock|css|html|sql|java|rb|c|h|cpp)\b/g, '<path>')
    .replace(/\b[0-9a-f]{7,}\b/g, '<hex>')
    .replace(task, '<task>')
    .replace(NUMBER_OR_EXIT_CODE, (n, exitWords: string | undefined) => (exitWords === undefined ? '<n>' : n))
    .replace(/\s+/g, ' ')
    .trim();
  const clipped = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return clipped === '' ? outcome : `${outcome}: ${clipped}`;
}

export interface FailurePattern {
  readonly signature: string;
  readonly count: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Counts per template, most first. */
  readonly byTemplate: ReadonlyArray<{ readonly key: string; readonly count: number }>;
  /** Counts per segment (task class / repo), most first. */
  readonly bySegment: ReadonlyArray<{ readonly key: string; readonly count: number }>;
  /** The newest example runs (run id and task). */
  readonly examples: ReadonlyArray<{ readonly runId: string; readonly taskId: string; readonly finishedAtMs: number }>;
  /** The first rule that matches, or null when none does. */
  readonly remediation: { readonly ruleId: string; readonly action: string; readonly rationale: string } | null;
}

export interface FailuresOptions {
  /** A pattern recurs when seen at least this often (default 2). */
  readonly minCount: number;
  /** Example runs kept per pattern (default 3). */
  readonly examples: number;
}

export const DEFAULT_FAILURES_OPTIONS: FailuresOptions = Object.freeze({ minCount: 2, examples: 3 });

export interface FailuresReport {
  readonly kind: 'failures';
  readonly asOfMs: number;
  readonly rulesVersion: number;
  /** Runs that were not a pass. */
  readonly failedRuns: number;
  /** Every pattern, most frequent first. */
  readonly patterns: readonly FailurePattern[];
  /** Signatures of recurring patterns no rule matches: rules to write. */
  readonly needingRule: readonly string[];
}

const counts = (m: ReadonlyMap<string, number>): Array<{ key: string; count: number }> =>
  [...m.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || byString(a.key, b.key));

/** The remediation of a signature: the first rule whose pattern matches. */
export function remediationFor(signature: string, rules: RemediationRules): FailurePattern['remediation'] {
  for (const r of rules.rules) {
    if (new RegExp(r.match, 'i').test(signature)) return { ruleId: r.id, action: r.action, rationale: r.rationale };
  }
  return null;
}

const newestFirst = (a: RunRow, b: RunRow) => b.finishedAtMs - a.finishedAtMs || byString(a.runId, b.runId);

export interface FailureTallyState {
  readonly examples: number;
  readonly failed: number;
  readonly patterns: ReadonlyArray<{
    readonly signature: string;
    readonly count: number;
    readonly first: number;
    readonly last: number;
    readonly byTemplate: ReadonlyArray<readonly [string, number]>;
    readonly bySegment: ReadonlyArray<readonly [string, number]>;
    readonly newest: readonly RunRow[];
  }>;
}

/**
 * The failure patterns of runs as they arrive, in any order: counts, dates and the newest examples
 * per signature (a pattern's numbers do not depend on the order its runs came in). The dashboard
 * keeps one; {@link failuresReport} fills one from the rows.
 */
export class FailureTally {
  private failed = 0;
  private readonly bySig = new Map<string, { count: number; first: number; last: number; byTemplate: Map<string, number>; bySegment: Map<string, number>; newest: RunRow[] }>();

  constructor(private readonly examples = DEFAULT_FAILURES_OPTIONS.examples) {}

  add(r: RunRow): void {
    if (NOT_FAILURES.has(r.outcome)) return;
    this.failed++;
    const sig = failureSignature(r.outcome, r.failureReason, r.taskId);
    let p = this.bySig.get(sig);
    if (p === undefined) this.bySig.set(sig, (p = { count: 0, first: Infinity, last: -Infinity, byTemplate: new Map(), bySegment: new Map(), newest: [] }));
    p.count++;
    p.first = Math.min(p.first, r.finishedAtMs);
    p.last = Math.max(p.last, r.finishedAtMs);
    const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    bump(p.byTemplate, r.templateId);
    bump(p.bySegment, `${r.taskClass || '(any class)'} / ${r.repo || '(any repo)'}`);
    // The newest `examples`, as a stable sort of every run would pick them (ties keep arrival order).
    const n = p.newest;
    if (n.length < this.examples || newestFirst(r, n[n.length - 1]!) < 0) {
      let i = n.length;
      while (i > 0 && newestFirst(r, n[i - 1]!) < 0) i--;
      n.splice(i, 0, r);
      if (n.length > this.examples) n.pop();
    }
  }

  /** What this tally holds (FailureTally.fromState makes it again). */
  state(): FailureTallyState {
    return {
      examples: this.examples,
      failed: this.failed,
      patterns: [...this.bySig].map(([signature, p]) => ({ signature, count: p.count, first: p.first, last: p.last, byTemplate: [...p.byTemplate], bySegment: [...p.bySegment], newest: [...p.newest] })),
    };
  }

  static fromState(s: FailureTallyState): FailureTally {
    const t = new FailureTally(s.examples);
    t.failed = s.failed;
    for (const p of s.patterns) {
      t.bySig.set(p.signature, { count: p.count, first: p.first, last: p.last, byTemplate: new Map(p.byTemplate), bySegment: new Map(p.bySegment), newest: [...p.newest] });
    }
    return t;
  }

  report(asOfMs: number, rules: RemediationRules, minCount = DEFAULT_FAILURES_OPTIONS.minCount): FailuresReport {
    const patterns: FailurePattern[] = [...this.bySig.entries()].map(([signature, p]) => ({
      signature,
      count: p.count,
      firstSeenMs: p.first,
      lastSeenMs: p.last,
      byTemplate: counts(p.byTemplate),
      bySegment: counts(p.bySegment),
      examples: p.newest.map((r) => ({ runId: r.runId, taskId: r.taskId, finishedAtMs: r.finishedAtMs })),
      remediation: remediationFor(signature, rules),
    }));
    patterns.sort((a, b) => b.count - a.count || byString(a.signature, b.signature));
    return {
      kind: 'failures',
      asOfMs,
      rulesVersion: rules.version,
      failedRuns: this.failed,
      patterns,
      needingRule: patterns.filter((p) => p.count >= minCount && p.remediation === null).map((p) => p.signature),
    };
  }
}

/**
 * Failure patterns of every run finished by `asOfMs`.
 * @param rules the parsed, validated rules file
 */
export function failuresReport(rows: readonly RunRow[], asOfMs: number, rules: RemediationRules, options: Partial<FailuresOptions> = {}): FailuresReport {
  const o = { ...DEFAULT_FAILURES_OPTIONS, ...options };
  const tally = new FailureTally(o.examples);
  for (const r of rowsAsOf(rows, asOfMs)) tally.add(r);
  return tally.report(asOfMs, rules, o.minCount);
}
