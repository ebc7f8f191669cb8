/**
 * How likely issue 9's matrix target is to hold on a fresh draw of seeds, given the paired differences one matrix
 * run measured. Each comparison (learnloop's mean or p10 against a baseline's, in a target cell) holds with
 * probability Φ(lead / se), its paired standard error taken from the run's 95% interval; the target holds when all
 * of them do. Cells are taken as independent (a seed draws each cell's candidates and task stream afresh, as K
 * differs; the tables themselves are fixed, and the chance is over fresh seeds). The comparisons within a cell are
 * not (they share learnloop's figure), so a cell holds with probability at most its least likely comparison's, and
 * the product of those minima over cells bounds the target's chance from above whatever the correlation within
 * cells. The leads are the run's own estimates (a plug-in), and the normal approximation is the
 * one the intervals already make.
 */
import { normalCdf } from '../reports/stats.js';
import { isBaseline, isTargetCell, type MatrixResult } from './matrix.js';

export interface TargetComparison {
  readonly cell: string;
  readonly stat: 'mean' | 'p10';
  readonly baseline: string;
  /** learnloop's figure − the baseline's (negative: a shortfall). */
  readonly lead: number;
  readonly se: number;
}

const seFrom = (low: number, high: number) => (high - low) / (2 * 1.96);

/** Every comparison of the target in a matrix run; p10 ones only where the run kept their paired intervals. */
export function targetComparisons(m: MatrixResult): TargetComparison[] {
  const out: TargetComparison[] = [];
  for (const c of m.cells) {
    if (!isTargetCell(c)) continue;
    const ll = c.policies['learnloop']!;
    const cell = `${c.table} K=${c.k}`;
    for (const [baseline, p] of Object.entries(c.policies).filter(([name]) => isBaseline(name))) {
      out.push({ cell, stat: 'mean', baseline, lead: ll.mean - p.mean, se: seFrom(p.diffLow, p.diffHigh) });
      if (p.p10Diff !== undefined) out.push({ cell, stat: 'p10', baseline, lead: ll.p10 - p.p10, se: seFrom(p.p10Diff.low, p.p10Diff.high) });
    }
  }
  return out;
}

/** The chance that one comparison holds at the given lead. */
export const holds = (c: TargetComparison, lead = c.lead) => normalCdf(lead / c.se);

/** An upper bound on the chance that every comparison holds: Π over cells of the cell's least likely comparison. */
export function targetChance(cs: readonly TargetComparison[], lead: (c: TargetComparison) => number = (c) => c.lead): number {
  const worst = new Map<string, number>();
  for (const c of cs) worst.set(c.cell, Math.min(worst.get(c.cell) ?? 1, holds(c, lead(c))));
  return [...worst.values()].reduce((a, b) => a * b, 1);
}
