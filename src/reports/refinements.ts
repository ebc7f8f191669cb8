/**
 * When a template needs a person's attention: the refinement detector. Pure; the service opens the
 * items it proposes in the log, and people accept or reject them. learnloop never edits a prompt.
 */
import { failuresReport, type FailurePattern, type RemediationRules } from './failures.js';
import { metricsOf, type Metrics } from './metrics.js';
import { byString, rowsAsOf, type RefinementRow, type RunRow, type TemplateRow } from './rows.js';
import { probBelow } from './stats.js';
import { recentChanges, trendReport, type Change, type TrendOptions } from './trend.js';

export interface RefinementOptions {
  /** Pass rate a template should reach (default 0.5). */
  readonly threshold: number;
  /** Open an item when P(pass rate < threshold) is at least this (default 0.95). */
  readonly credibility: number;
  /** Fewest judged runs before the threshold test applies (default 10). */
  readonly minRuns: number;
  /** Most child versions of one template awaiting review as candidates (default 2). */
  readonly maxOpenCandidates: number;
  /** Accepted refinements in a row without improvement before the loop breaker stops new items (default 2). */
  readonly maxFutileRefinements: number;
}

export const DEFAULT_REFINEMENT_OPTIONS: RefinementOptions = Object.freeze({
  threshold: 0.5,
  credibility: 0.95,
  minRuns: 10,
  maxOpenCandidates: 2,
  maxFutileRefinements: 2,
});

/** What a new item carries: the numbers a maintainer needs to decide. */
export interface RefinementEvidence {
  readonly scorecard: Metrics;
  readonly threshold: number;
  readonly probBelowThreshold: number;
  readonly regressions: readonly Change[];
  /** Pass rate per window, oldest first. */
  readonly trend: ReadonlyArray<{ readonly startMs: number; readonly judged: number; readonly passRate: number }>;
  readonly topFailures: ReadonlyArray<Pick<FailurePattern, 'signature' | 'count' | 'remediation'>>;
}

export interface RefinementProposal {
  readonly refinementId: string;
  readonly templateId: string;
  /** 'below_threshold', 'regression', or both joined by '+'. */
  readonly trigger: string;
  readonly summary: string;
  readonly evidence: RefinementEvidence;
}

export interface RefinementScan {
  readonly proposals: readonly RefinementProposal[];
  /** Templates that qualified but a guardrail held back, and which one. */
  readonly suppressed: ReadonlyArray<{ readonly templateId: string; readonly reason: string }>;
}

export interface RefinementInput {
  readonly rows: readonly RunRow[];
  readonly templates: readonly TemplateRow[];
  readonly refinements: readonly RefinementRow[];
  readonly rules: RemediationRules;
  readonly asOfMs: number;
  readonly options?: Partial<RefinementOptions>;
  readonly trend?: Partial<TrendOptions>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Accepted refinements in a row, ending at `templateId`, whose new version did not beat its
 * parent's pass rate. Versions without enough judged runs have not been judged yet and stop the count.
 */
export function futileRefinements(templateId: string, rows: readonly RunRow[], refinements: readonly RefinementRow[], minRuns: number): number {
  let n = 0;
  let child = templateId;
  for (let guard = 0; guard < 64; guard++) {
    const item = refinements.find((r) => r.status === 'accepted' && r.newTemplateId === child);
    if (item === undefined) break;
    const c = metricsOf(rows.filter((r) => r.templateId === child));
    const p = metricsOf(rows.filter((r) => r.templateId === item.templateId));
    if (c.judged < minRuns || c.passRate > p.passRate) break;
    n++;
    child = item.templateId;
  }
  return n;
}

/** What a person's decision on a template's latest item leaves for a scan to propose, if anything. */
interface AfterDecision {
  /** Why nothing is proposed, when the decision still holds. */
  readonly held?: string;
  readonly below: boolean;
  readonly regressions: readonly Change[];
  /** The evidence from the runs since the decision, for the new item's summary. */
  readonly summary: string;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A person's decision stands until the evidence is new: at least `minRuns` judged runs that finished
 * after it, on which the failure still holds (their pass rate alone is credibly below the threshold,
 * or a regression is dated after the decision). Only the log decides, so re-running a scan over the
 * same log never undoes a rejection, nor proposes again what an accepted version is already trialling.
 */
function afterDecision(decision: RefinementRow, mine: readonly RunRow[], regressions: readonly Change[], o: RefinementOptions): AfterDecision {
  const m = metricsOf(mine.filter((r) => r.finishedAtMs > decision.decidedAtMs));
  const pBelow = m.judged > 0 ? probBelow(m.passes, m.judged, o.threshold) : 0;
  const below = m.judged >= o.minRuns && pBelow >= o.credibility;
  const later = regressions.filter((c) => c.atMs > decision.decidedAtMs);
  const how = decision.status === 'accepted' ? `accepted as ${decision.newTemplateId}` : 'rejected';
  const decided = `${decision.refinementId} was ${how} by ${decision.actor} on ${day(decision.decidedAtMs)}`;
  const record = `pass rate ${m.judged > 0 ? pct(m.passRate) : '–'} over ${m.judged} judged runs finished since; P(rate < ${pct(o.threshold)}) = ${pBelow.toFixed(3)}`;
  if (m.judged < o.minRuns) {
    return { held: `${decided}; a new item needs ${o.minRuns} judged runs finished since then, and it has ${m.judged}`, below: false, regressions: [], summary: '' };
  }
  if (!below && later.length === 0) {
    return { held: `${decided}; the runs since do not show the failure again (${record})`, below: false, regressions: [], summary: '' };
  }
  return { below, regressions: later, summary: below ? `since ${decided}: ${record}` : `since ${decided}` };
}

/**
 * Templates whose pass rate is credibly below the threshold, or whose pass rate regressed, with
 * the guardrails applied: one open item per template, a person's decision standing until new
 * evidence, a cap on child versions awaiting review, and a loop breaker after repeated
 * refinements without improvement. The guardrails read the queue and template statuses as the
 * log holds them (items are opened now, whatever `asOfMs`); the evidence is the runs up to `asOfMs`.
 */
export function scanRefinements(input: RefinementInput): RefinementScan {
  const o = { ...DEFAULT_REFINEMENT_OPTIONS, ...input.options };
  const rows = rowsAsOf(input.rows, input.asOfMs);
  const trend = trendReport(rows, input.asOfMs, input.trend);
  const failures = failuresReport(rows, input.asOfMs, input.rules);
  // A regression counts while it is the series' latest change and dated within the windows shown.
  const recent = recentChanges(trend.changes, trend.overall.points[0]?.startMs ?? input.asOfMs);
  const proposals: RefinementProposal[] = [];
  const suppressed: Array<{ templateId: string; reason: string }> = [];
  const live = input.templates.filter((t) => t.status !== 'retired').map((t) => t.templateId);
  const ids = [...new Set([...live, ...rows.map((r) => r.templateId)])]
    .filter((id) => input.templates.find((t) => t.templateId === id)?.status !== 'retired')
    .sort(byString);
  for (const templateId of ids) {
    const mine = rows.filter((r) => r.templateId === templateId);
    const m = metricsOf(mine);
    const pBelow = m.judged > 0 ? probBelow(m.passes, m.judged, o.threshold) : 0;
    const below = m.judged >= o.minRuns && pBelow >= o.credibility;
    const regressions = recent.filter((c) => c.scopeKind === 'template' && c.scope === templateId && c.direction === 'regressed' && c.metric === 'pass_rate');
    if (!below && regressions.length === 0) continue;
    const existing = input.refinements.filter((r) => r.templateId === templateId);
    const open = existing.find((r) => r.status === 'open');
    if (open !== undefined) {
      suppressed.push({ templateId, reason: `item ${open.refinementId} is still open` });
      continue;
    }
    const lastDecided = existing.filter((r) => r.status !== 'open').sort((a, b) => a.decidedAtMs - b.decidedAtMs || byString(a.refinementId, b.refinementId)).at(-1);
    const since = lastDecided === undefined ? undefined : afterDecision(lastDecided, mine, regressions, o);
    if (since?.held !== undefined) {
      suppressed.push({ templateId, reason: since.held });
      continue;
    }
    const candidates = input.templates.filter((t) => t.parentTemplateId === templateId && t.status === 'candidate').length;
    if (candidates >= o.maxOpenCandidates) {
      suppressed.push({ templateId, reason: `${candidates} child versions already await review as candidates (cap ${o.maxOpenCandidates})` });
      continue;
    }
    const futile = futileRefinements(templateId, rows, input.refinements, o.minRuns);
    if (futile >= o.maxFutileRefinements) {
      suppressed.push({ templateId, reason: `loop breaker: ${futile} refinements in a row brought no improvement; a person should rethink this template` });
      continue;
    }
    // After a decision the item stands on the evidence since it; the scorecard stays the whole record.
    const shown = since?.regressions ?? regressions;
    const trigger = [(since?.below ?? below) ? 'below_threshold' : '', shown.length > 0 ? 'regression' : ''].filter(Boolean).join('+');
    const reasons = [
      since !== undefined ? since.summary : '',
      since === undefined && below ? `pass rate ${pct(m.passRate)} over ${m.judged} judged runs; P(rate < ${pct(o.threshold)}) = ${pBelow.toFixed(3)}` : '',
      ...shown.map(
        (c) =>
          `${c.metric.replace(/_/g, ' ')} fell from ${pct(c.beforeRate)} to ${pct(c.afterRate)} from ${new Date(c.atMs).toISOString().slice(0, 10)} (p ${c.pValue < 0.001 ? '< 0.001' : `= ${c.pValue.toFixed(3)}`})`,
      ),
    ].filter(Boolean);
    const series = trend.byTemplate.find((s) => s.scope === templateId)?.points ?? [];
    proposals.push({
      refinementId: `${templateId}#${existing.length + 1}`,
      templateId,
      trigger,
      summary: reasons.join('; '),
      evidence: {
        scorecard: m,
        threshold: o.threshold,
        probBelowThreshold: pBelow,
        regressions: shown,
        trend: series.map((p) => ({ startMs: p.startMs, judged: p.judged, passRate: p.passRate })),
        topFailures: failures.patterns
          .filter((p) => p.byTemplate.some((t) => t.key === templateId))
          .slice(0, 3)
          .map((p) => ({ signature: p.signature, count: p.byTemplate.find((t) => t.key === templateId)!.count, remediation: p.remediation })),
      },
    });
  }
  return { proposals, suppressed };
}
