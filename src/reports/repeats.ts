/**
 * Repeated failures: a failed run is a *repeat* when the same failure pattern (the failures
 * report's signature) was already seen within the `windowDays` before it for the same template —
 * a refined version counts as the same template as its parent, so a version that brings its
 * parent's failure back repeats it — and, separately, for the same repository.
 *
 * Failed runs are the judged runs that did not pass (fail, partial, timeout): infra errors and
 * unverified runs say nothing about the template. A failure earlier than `windowDays` after the
 * log's first run cannot be judged (its look-back is not covered by the log) and is left out of
 * every share, so the start of a log does not look like a time of new failures.
 */
import { failureSignature, remediationFor, type FailurePattern, type RemediationRules } from './failures.js';
import { groupBy, isJudged } from './metrics.js';
import { byString, type RefinementRow, type RunRow, type TemplateRow } from './rows.js';
import { wilsonInterval } from './stats.js';

const MS_PER_DAY = 86_400_000;

export const DEFAULT_REPEAT_WINDOW_DAYS = 14;

/** One failed run and whether it repeats a failure seen before. */
export interface FailureOccurrence {
  readonly runId: string;
  readonly atMs: number;
  readonly templateId: string;
  /** The template's lineage root: the version the refinements started from. */
  readonly family: string;
  readonly repo: string;
  readonly signature: string;
  /** False when the log does not reach back `windowDays` before it. */
  readonly judgeable: boolean;
  readonly repeatForTemplate: boolean;
  readonly repeatForRepo: boolean;
}

/** The lineage root of each template id (itself when it has no registered parent). */
export function lineageRoots(templates: readonly TemplateRow[]): (templateId: string) => string {
  const parent = new Map(templates.map((t) => [t.templateId, t.parentTemplateId]));
  return (id) => {
    let cur = id;
    for (let guard = 0; guard < 64; guard++) {
      const p = parent.get(cur);
      if (p === undefined || p === '') return cur;
      cur = p;
    }
    return cur;
  };
}

/**
 * Every failed run among `rows` (all history: a repeat may look back before a report's window),
 * oldest first.
 */
export function failureOccurrences(rows: readonly RunRow[], templates: readonly TemplateRow[], windowDays = DEFAULT_REPEAT_WINDOW_DAYS): FailureOccurrence[] {
  // One path for a batch and for the dashboard's kept occurrences: a new keeper makes them all.
  return new FailureOccurrences().of(rows, templates, windowDays);
}

/** What FailureOccurrences holds: its occurrences column by column (flags: 1 judgeable, 2 repeat for the template, 4 for the repository). */
export interface FailureOccurrencesState {
  readonly key: string;
  readonly firstRunMs: number;
  readonly seen: number;
  readonly runId: readonly string[];
  readonly atMs: ArrayLike<number>;
  readonly templateId: readonly string[];
  readonly family: readonly string[];
  readonly repo: readonly string[];
  readonly signature: readonly string[];
  readonly flags: ArrayLike<number>;
  readonly lastByTemplate: ReadonlyArray<readonly [string, number]>;
  readonly lastByRepo: ReadonlyArray<readonly [string, number]>;
  readonly last: RunRow | null;
}

const failedInOrder = (a: RunRow, b: RunRow) => a.finishedAtMs - b.finishedAtMs || byString(a.runId, b.runId);

/**
 * The failure occurrences of a list of rows that only grows at its end, kept between calls: rows
 * added since the last call that all failed after the last failure seen (in time, then run id) are
 * only appended; anything else (an earlier failure arriving late, an earlier first run, another
 * lineage or window) makes them all again. Either way the result is what a new keeper makes of all the rows.
 */
export class FailureOccurrences {
  private occ: FailureOccurrence[] = [];
  private rows: readonly RunRow[] = [];
  private seen = 0;
  private key = '';
  private firstRunMs = Infinity;
  private last: RunRow | undefined;
  private readonly lastByTemplate = new Map<string, number>();
  private readonly lastByRepo = new Map<string, number>();

  of(rows: readonly RunRow[], templates: readonly TemplateRow[], windowDays = DEFAULT_REPEAT_WINDOW_DAYS): FailureOccurrence[] {
    const grew = rows.length >= this.seen && this.rows.length === this.seen && (rows === this.rows || this.rows.every((r, i) => r === rows[i]));
    const occ = this.extend(grew ? rows.slice(this.seen) : undefined, () => rows, templates, windowDays);
    this.rows = rows;
    return occ;
  }

  /**
   * The occurrences of the rows last given and `added` after them (the caller knows they only grew:
   * the dashboard's fold); `added` undefined when the rows changed otherwise. `all` gives every row,
   * for when they must all be made again.
   */
  extend(added: readonly RunRow[] | undefined, all: () => readonly RunRow[], templates: readonly TemplateRow[], windowDays = DEFAULT_REPEAT_WINDOW_DAYS): FailureOccurrence[] {
    const key = `${windowDays}\u0000${JSON.stringify(templates.map((t) => [t.templateId, t.parentTemplateId]))}`;
    let firstRunMs = this.firstRunMs;
    for (const r of added ?? []) firstRunMs = Math.min(firstRunMs, r.finishedAtMs);
    const failed = (added ?? []).filter((r) => isJudged(r) && r.outcome !== 'pass').sort(failedInOrder);
    if (added === undefined || key !== this.key || firstRunMs !== this.firstRunMs || (failed.length > 0 && this.last !== undefined && failedInOrder(this.last, failed[0]!) > 0)) {
      const rows = all();
      this.occ = [];
      this.lastByTemplate.clear();
      this.lastByRepo.clear();
      this.last = undefined;
      this.key = key;
      this.firstRunMs = rows.reduce((m, r) => Math.min(m, r.finishedAtMs), Infinity);
      this.append(rows.filter((r) => isJudged(r) && r.outcome !== 'pass').sort(failedInOrder), templates, windowDays);
      this.seen = rows.length;
    } else {
      this.append(failed, templates, windowDays);
      this.seen += added.length;
    }
    return this.occ;
  }

  /** What this holds (FailureOccurrences.fromState makes it again), the occurrences column by column. */
  state(): FailureOccurrencesState {
    const o = this.occ;
    return {
      key: this.key,
      firstRunMs: this.firstRunMs,
      seen: this.seen,
      runId: o.map((x) => x.runId),
      atMs: o.map((x) => x.atMs),
      templateId: o.map((x) => x.templateId),
      family: o.map((x) => x.family),
      repo: o.map((x) => x.repo),
      signature: o.map((x) => x.signature),
      flags: o.map((x) => (x.judgeable ? 1 : 0) | (x.repeatForTemplate ? 2 : 0) | (x.repeatForRepo ? 4 : 0)),
      lastByTemplate: [...this.lastByTemplate],
      lastByRepo: [...this.lastByRepo],
      last: this.last === undefined ? null : { ...this.last },
    };
  }

  /**
   * The occurrences a state was taken of. With `rows`, the rows its last call was given (the same
   * objects), so that `of` can tell that they only grew (other rows: made again on the next call);
   * without, for `extend`.
   */
  static fromState(s: FailureOccurrencesState, rows?: readonly RunRow[]): FailureOccurrences {
    const f = new FailureOccurrences();
    if (rows !== undefined && rows.length !== s.seen) return f;
    f.key = s.key;
    f.firstRunMs = s.firstRunMs;
    f.seen = s.seen;
    f.rows = rows ?? [];
    for (let i = 0; i < s.runId.length; i++) {
      const flags = s.flags[i]!;
      f.occ.push({
        runId: s.runId[i]!,
        atMs: s.atMs[i]!,
        templateId: s.templateId[i]!,
        family: s.family[i]!,
        repo: s.repo[i]!,
        signature: s.signature[i]!,
        judgeable: (flags & 1) !== 0,
        repeatForTemplate: (flags & 2) !== 0,
        repeatForRepo: (flags & 4) !== 0,
      });
    }
    for (const [k, v] of s.lastByTemplate) f.lastByTemplate.set(k, v);
    for (const [k, v] of s.lastByRepo) f.lastByRepo.set(k, v);
    f.last = s.last ?? undefined;
    return f;
  }

  private append(failed: readonly RunRow[], templates: readonly TemplateRow[], windowDays: number): void {
    const root = lineageRoots(templates);
    const w = windowDays * MS_PER_DAY;
    for (const r of failed) {
      const signature = failureSignature(r.outcome, r.failureReason, r.taskId);
      const family = root(r.templateId);
      const kt = `${family}\u0000${signature}`;
      const kr = `${r.repo}\u0000${signature}`;
      const seenT = this.lastByTemplate.get(kt);
      const seenR = this.lastByRepo.get(kr);
      this.lastByTemplate.set(kt, r.finishedAtMs);
      this.lastByRepo.set(kr, r.finishedAtMs);
      this.occ.push({
        runId: r.runId,
        atMs: r.finishedAtMs,
        templateId: r.templateId,
        family,
        repo: r.repo,
        signature,
        judgeable: r.finishedAtMs >= this.firstRunMs + w,
        repeatForTemplate: seenT !== undefined && r.finishedAtMs - seenT <= w,
        repeatForRepo: seenR !== undefined && r.finishedAtMs - seenR <= w,
      });
      this.last = r;
    }
  }
}

/** The share of judgeable failed runs that are repeats, with its 95% Wilson interval. */
export interface RepeatShare {
  readonly failed: number;
  readonly repeats: number;
  readonly share: number;
  readonly low: number;
  readonly high: number;
}

export function repeatShare(occ: readonly FailureOccurrence[], by: 'template' | 'repo'): RepeatShare {
  const judged = occ.filter((o) => o.judgeable);
  const repeats = judged.filter((o) => (by === 'template' ? o.repeatForTemplate : o.repeatForRepo)).length;
  const [low, high] = wilsonInterval(repeats, judged.length);
  return { failed: judged.length, repeats, share: judged.length > 0 ? repeats / judged.length : 0, low, high };
}

/** A pattern that recurs, with what to do about it and whether a refinement did. */
export interface RecurringPattern {
  readonly signature: string;
  /** Repeats (same template) in the window, and failed runs with this signature there. */
  readonly repeats: number;
  readonly failures: number;
  readonly byTemplate: ReadonlyArray<{ readonly key: string; readonly count: number }>;
  readonly remediation: FailurePattern['remediation'];
  /**
   * Accepted refinements of a template this pattern had repeated on before the decision, with the
   * pattern's repeats on the new version since: 0 means it has not come back there.
   */
  readonly refinements: ReadonlyArray<{ readonly refinementId: string; readonly templateId: string; readonly newTemplateId: string; readonly decidedAtMs: number; readonly repeatsSince: number }>;
}

export interface RepeatsSection {
  readonly windowDays: number;
  readonly sinceMs: number;
  readonly untilMs: number;
  /** Failed runs in the window that could not be judged (the log does not reach back far enough). */
  readonly unjudgeable: number;
  readonly overall: { readonly template: RepeatShare; readonly repo: RepeatShare };
  readonly byTemplate: ReadonlyArray<RepeatShare & { readonly key: string }>;
  readonly byRepo: ReadonlyArray<RepeatShare & { readonly key: string }>;
  /** Patterns with the most repeats in the window, most first. */
  readonly patterns: readonly RecurringPattern[];
}

const grouped = (occ: readonly FailureOccurrence[], key: (o: FailureOccurrence) => string, by: 'template' | 'repo'): Array<RepeatShare & { key: string }> =>
  groupBy(occ, key).map(([k, os]) => ({ key: k, ...repeatShare(os, by) }));

/**
 * Repeated failures in [sinceMs, untilMs].
 * @param occurrences from failureOccurrences over the whole log
 * @param top recurring patterns listed (default 5)
 */
export function repeatsSection(
  occurrences: readonly FailureOccurrence[],
  refinements: readonly RefinementRow[],
  rules: RemediationRules,
  sinceMs: number,
  untilMs: number,
  windowDays = DEFAULT_REPEAT_WINDOW_DAYS,
  top = 5,
): RepeatsSection {
  const inWindow = occurrences.filter((o) => o.atMs >= sinceMs && o.atMs <= untilMs);
  const accepted = refinements.filter((r) => r.status === 'accepted' && r.decidedAtMs <= untilMs);
  const patterns = groupBy(inWindow, (o) => o.signature)
    .map(([signature, os]): RecurringPattern => {
      const reps = os.filter((o) => o.judgeable && o.repeatForTemplate);
      const counts = new Map<string, number>();
      for (const o of reps) counts.set(o.templateId, (counts.get(o.templateId) ?? 0) + 1);
      const recurredOn = (templateId: string, beforeMs: number) =>
        occurrences.some((o) => o.signature === signature && o.templateId === templateId && o.repeatForTemplate && o.atMs < beforeMs);
      return {
        signature,
        repeats: reps.length,
        failures: os.length,
        byTemplate: [...counts.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || byString(a.key, b.key)),
        remediation: remediationFor(signature, rules),
        refinements: accepted
          .filter((r) => recurredOn(r.templateId, r.decidedAtMs))
          .map((r) => ({
            refinementId: r.refinementId,
            templateId: r.templateId,
            newTemplateId: r.newTemplateId,
            decidedAtMs: r.decidedAtMs,
            repeatsSince: occurrences.filter((o) => o.signature === signature && o.templateId === r.newTemplateId && o.repeatForTemplate && o.atMs <= untilMs).length,
          }))
          .sort((a, b) => byString(a.refinementId, b.refinementId)),
      };
    })
    .filter((p) => p.repeats > 0)
    .sort((a, b) => b.repeats - a.repeats || byString(a.signature, b.signature))
    .slice(0, top);
  return {
    windowDays,
    sinceMs,
    untilMs,
    unjudgeable: inWindow.filter((o) => !o.judgeable).length,
    overall: { template: repeatShare(inWindow, 'template'), repo: repeatShare(inWindow, 'repo') },
    byTemplate: grouped(inWindow, (o) => o.templateId, 'template'),
    byRepo: grouped(inWindow, (o) => o.repo, 'repo'),
    patterns,
  };
}
