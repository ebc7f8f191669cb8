/** `report scores`: per template, per task class and per repository. */
import { groupBy, metricsOf, type Metrics } from './metrics.js';
import { rowsAsOf, type RunRow } from './rows.js';

export interface ScoreRow extends Metrics {
  readonly key: string;
}

export interface ScoresReport {
  readonly kind: 'scores';
  readonly asOfMs: number;
  readonly overall: Metrics;
  readonly byTemplate: readonly ScoreRow[];
  readonly byTaskClass: readonly ScoreRow[];
  readonly byRepo: readonly ScoreRow[];
}

/**
 * Scorecards of every run finished by `asOfMs`.
 * @param asOfMs report date, ms since the epoch; later runs are left out
 */
export function scoresReport(rows: readonly RunRow[], asOfMs: number): ScoresReport {
  const seen = rowsAsOf(rows, asOfMs);
  const by = (key: (r: RunRow) => string): ScoreRow[] => groupBy(seen, key).map(([k, rs]) => ({ key: k, ...metricsOf(rs) }));
  return {
    kind: 'scores',
    asOfMs,
    overall: metricsOf(seen),
    byTemplate: by((r) => r.templateId),
    byTaskClass: by((r) => r.taskClass),
    byRepo: by((r) => r.repo),
  };
}
