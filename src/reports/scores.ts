/** `report scores`: per template, per task class and per repository. */
import { groupBy, metricsOf, type Metrics } from './metrics.js';
import { rowsAsOf, type RunRow } from './rows.js';

export interface ScoreRow extends Metrics {
  readonly key: string;
}

/** A template's row, with the evidence level of its posterior over all runs ('' when not known). */
export interface TemplateScoreRow extends ScoreRow {
  readonly evidence: string;
}

export interface ScoresReport {
  readonly kind: 'scores';
  readonly asOfMs: number;
  readonly overall: Metrics;
  readonly byTemplate: readonly TemplateScoreRow[];
  readonly byTaskClass: readonly ScoreRow[];
  readonly byRepo: readonly ScoreRow[];
}

/**
 * Scorecards of every run finished by `asOfMs`.
 * @param asOfMs report date, ms since the epoch; later runs are left out
 * @param evidence each template's evidence label (evidenceLabel of its posterior over every run), as `scores` prints it
 */
export function scoresReport(rows: readonly RunRow[], asOfMs: number, evidence: ReadonlyMap<string, string> = new Map()): ScoresReport {
  const seen = rowsAsOf(rows, asOfMs);
  const by = (key: (r: RunRow) => string): ScoreRow[] => groupBy(seen, key).map(([k, rs]) => ({ key: k, ...metricsOf(rs) }));
  return {
    kind: 'scores',
    asOfMs,
    overall: metricsOf(seen),
    byTemplate: by((r) => r.templateId).map((t) => ({ ...t, evidence: evidence.get(t.key) ?? '' })),
    byTaskClass: by((r) => r.taskClass),
    byRepo: by((r) => r.repo),
  };
}
