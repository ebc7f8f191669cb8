/**
 * Outcome classification of a dispatcher run record: the one place a record's status, exit code
 * and verification become an Outcome. The rules, in order (docs/reports.md has the table):
 *
 *  1. status `timeout`                               -> timeout
 *  2. status `failed` and the failure reason names the infrastructure (INFRA_PATTERN)
 *                                                    -> infra_error
 *  3. status `failed`, or a non-zero exit code       -> fail (the agent's failure: a non-zero exit
 *                                                       is never an infrastructure error)
 *  4. no verification at all                         -> unverified (missing is not failed)
 *  5. tests failed, or overall fail with no failed check named -> fail
 *  6. tests not failed, but lint, ubs or truthsayer reported problems -> partial
 *  7. at least one check passed, or overall pass     -> pass
 *  8. every check skipped or absent                  -> unverified (a check not run is not a fail)
 *
 * The system this replaces scored a clean run with no verification as partial_pass with the
 * pattern "verification-gap"; here it is unverified and teaches nothing.
 */
import type { Outcome } from '../bandit/index.js';

/** A verification check's result: ran and passed, ran and found problems, or did not run. */
export type CheckResult = 'pass' | 'fail' | 'not_run';

export interface Verification {
  readonly lint: CheckResult;
  readonly tests: CheckResult;
  readonly ubs: CheckResult;
  readonly truthsayer: CheckResult;
  /** The verifier's own verdict, when it gave one. */
  readonly overall: 'pass' | 'fail' | 'not_run';
}

export const CHECKS = ['tests', 'lint', 'ubs', 'truthsayer'] as const;

export interface OutcomeInput {
  readonly status: 'done' | 'failed' | 'timeout';
  readonly exitCode: number | null;
  readonly failureReason: string;
  /** Undefined when the record has no verification (null or absent). */
  readonly verification: Verification | undefined;
}

export interface ClassifiedOutcome {
  readonly outcome: Outcome;
  /** Why, in a canonical form the failures report turns into signatures; empty for a pass. */
  readonly failureReason: string;
}

/**
 * Failure reasons that blame the machinery, not the agent: the session or sandbox could not
 * start or vanished, the disk filled, the network or the model provider was unavailable.
 */
export const INFRA_PATTERN =
  /\b(infra(structure)?|tmux|session (not found|missing|died|vanished)|spawn|enospc|no space left|disk full|network|dns|econnrefused|econnreset|rate[- ]limit(ed)?|quota|http (5\d\d|429)|provider (error|unavailable)|out of memory|oom[- ]?kill(ed)?)\b/i;

/** The same check result from the words dispatchers use. */
export function checkResult(value: unknown): CheckResult {
  if (value === true) return 'pass';
  if (value === false) return 'fail';
  if (typeof value === 'number') return value === 0 ? 'pass' : 'fail';
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['pass', 'passed', 'clean', 'ok', 'success', 'green'].includes(v)) return 'pass';
    if (['fail', 'failed', 'issues', 'error', 'errors', 'red'].includes(v)) return 'fail';
    return 'not_run';
  }
  if (typeof value === 'object' && value !== null) {
    // Truthsayer's scan JSON: { summary: { errors: N, ... } }.
    const errors = (value as { summary?: { errors?: unknown } }).summary?.errors;
    if (typeof errors === 'number') return errors === 0 ? 'pass' : 'fail';
    const status = (value as { status?: unknown; result?: unknown }).status ?? (value as { result?: unknown }).result;
    if (status !== undefined) return checkResult(status);
  }
  return 'not_run';
}

/** A record's verification object, or undefined when it has none. */
export function parseVerification(raw: unknown): Verification | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const v = raw as Record<string, unknown>;
  const overall = checkResult(v.overall);
  return {
    lint: checkResult(v.lint),
    tests: checkResult(v.tests),
    ubs: checkResult(v.ubs),
    truthsayer: checkResult(v.truthsayer),
    overall,
  };
}

const clip = (s: string, n = 500) => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * The outcome of one finished run.
 * @returns the outcome and a canonical failure reason ("agent failed: exit 2: <reason>", "checks failed: tests, lint", ...).
 */
export function classifyOutcome(r: OutcomeInput): ClassifiedOutcome {
  const reason = clip(r.failureReason.trim());
  const exit = r.exitCode !== null && r.exitCode !== 0 ? `exit ${r.exitCode}` : '';
  const joined = (...parts: string[]) => parts.filter((p) => p !== '').join(': ');
  if (r.status === 'timeout') return { outcome: 'timeout', failureReason: reason || 'time limit reached' };
  if (r.status === 'failed' && INFRA_PATTERN.test(reason)) return { outcome: 'infra_error', failureReason: reason };
  if (r.status === 'failed' || exit !== '') {
    return { outcome: 'fail', failureReason: joined('agent failed', exit, reason) || 'agent failed' };
  }
  const v = r.verification;
  if (v === undefined) return { outcome: 'unverified', failureReason: 'verification missing' };
  const failed = CHECKS.filter((c) => v[c] === 'fail');
  const passed = CHECKS.filter((c) => v[c] === 'pass');
  const detail = `checks failed: ${failed.join(', ')}`;
  if (v.tests === 'fail' || (v.overall === 'fail' && failed.length === 0)) {
    return { outcome: 'fail', failureReason: failed.length > 0 ? detail : 'verification failed' };
  }
  if (failed.length > 0) return { outcome: 'partial', failureReason: detail };
  if (passed.length > 0 || v.overall === 'pass') return { outcome: 'pass', failureReason: '' };
  return { outcome: 'unverified', failureReason: 'verification skipped' };
}
