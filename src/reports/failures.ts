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
 * same. Exit codes are kept: exit 137 (killed) and exit 1 are different problems.
 */
export function failureSignature(outcome: string, reason: string): string {
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

function signatureOf(outcome: string, reason: string): string {
  const text = reason
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/(["'`])(?:(?!\1).){1,200}\1/g, '<str>')
    .replace(/(?:[a-z]:)?(?:[\w.$~-]*\/)+[\w.-]+/g, '<path>')
    .replace(/\b[\w-]+(?:\.[\w-]+)*\.(?:[cm]?[jt]sx?|json|py|go|rs|md|ya?ml|toml|sh|lock|css|html|sql|java|rb|c|h|cpp)\b/g, '<path>')
    .replace(/\b[0-9a-f]{7,}\b/g, '<hex>')
    .replace(/(?<!exit )-?\b\d+(?:\.\d+)?\b/g, '<n>')
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

function counts(keys: readonly string[]): Array<{ key: string; count: number }> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || byString(a.key, b.key));
}

/** The remediation of a signature: the first rule whose pattern matches. */
export function remediationFor(signature: string, rules: RemediationRules): FailurePattern['remediation'] {
  for (const r of rules.rules) {
    if (new RegExp(r.match, 'i').test(signature)) return { ruleId: r.id, action: r.action, rationale: r.rationale };
  }
  return null;
}

/**
 * Failure patterns of every run finished by `asOfMs`.
 * @param rules the parsed, validated rules file
 */
export function failuresReport(rows: readonly RunRow[], asOfMs: number, rules: RemediationRules, options: Partial<FailuresOptions> = {}): FailuresReport {
  const o = { ...DEFAULT_FAILURES_OPTIONS, ...options };
  const failed = rowsAsOf(rows, asOfMs).filter((r) => !NOT_FAILURES.has(r.outcome));
  const bySig = new Map<string, RunRow[]>();
  for (const r of failed) {
    const sig = failureSignature(r.outcome, r.failureReason);
    const list = bySig.get(sig);
    if (list === undefined) bySig.set(sig, [r]);
    else list.push(r);
  }
  const patterns: FailurePattern[] = [...bySig.entries()].map(([signature, rs]) => {
    const newest = [...rs].sort((a, b) => b.finishedAtMs - a.finishedAtMs || byString(a.runId, b.runId));
    return {
      signature,
      count: rs.length,
      // Folds, not Math.min(...): a pattern can have more runs than a call has room for arguments.
      firstSeenMs: rs.reduce((m, r) => Math.min(m, r.finishedAtMs), Infinity),
      lastSeenMs: rs.reduce((m, r) => Math.max(m, r.finishedAtMs), -Infinity),
      byTemplate: counts(rs.map((r) => r.templateId)),
      bySegment: counts(rs.map((r) => `${r.taskClass || '(any class)'} / ${r.repo || '(any repo)'}`)),
      examples: newest.slice(0, o.examples).map((r) => ({ runId: r.runId, taskId: r.taskId, finishedAtMs: r.finishedAtMs })),
      remediation: remediationFor(signature, rules),
    };
  });
  patterns.sort((a, b) => b.count - a.count || byString(a.signature, b.signature));
  return {
    kind: 'failures',
    asOfMs,
    rulesVersion: rules.version,
    failedRuns: failed.length,
    patterns,
    needingRule: patterns.filter((p) => p.count >= o.minCount && p.remediation === null).map((p) => p.signature),
  };
}
