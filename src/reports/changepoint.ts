/**
 * Change points in a series of yes/no outcomes (a template's runs passing, its tasks retried), over
 * the whole series rather than the latest window against the ones before it.
 *
 * Method: binary segmentation with a CUSUM scan. The outcomes are binned by UTC day; for every
 * boundary between days with at least `minSide` outcomes on each side, the statistic is
 * |successes before − their share of all successes|. Its maximum (the split) is tested by a seeded
 * permutation test (under no change the outcomes are exchangeable),
 * so the false-alarm rate is `alpha` whatever the series' length or rate; a significant split is kept
 * and each side is searched again. A split whose Bonferroni bound over the boundaries is below
 * alpha/100 is accepted without permutations (the bound is conservative, so this adds at most
 * alpha/100 of false alarms), the permutations stop as soon as they can no longer reach
 * significance (Besag & Clifford 1991), and a segment of more than `permuteUpTo` outcomes uses the
 * CUSUM's large-sample null instead (kolmogorovUpper), so large logs stay cheap.
 */
import { createRng } from '../bandit/index.js';
import { newcombeInterval, normalCdf, normalQuantileUpper } from './stats.js';

const MS_PER_DAY = 86_400_000;
/** χ²(1) 95% point: splits whose statistic is within it of the maximum form the date's likelihood region. */
const CHI2_1_95 = 3.841458820694124;

export interface Outcome01 {
  readonly atMs: number;
  readonly success: boolean;
}

export interface ChangePointOptions {
  /** Fewest outcomes on each side of a split (default 10). */
  readonly minSide: number;
  /** Significance level of each test (default 0.025). */
  readonly alpha: number;
  /** Most permutations per test (default 999). */
  readonly permutations: number;
  /** Most change points kept per series (default 3). */
  readonly maxChanges: number;
  /** Confidence of the size interval (default 0.95). */
  readonly confidence: number;
  /** Segments with more outcomes than this use the CUSUM's asymptotic null (Kolmogorov) instead of permutations (default 5000). */
  readonly permuteUpTo: number;
}

export const DEFAULT_CHANGE_POINT_OPTIONS: ChangePointOptions = Object.freeze({ minSide: 10, alpha: 0.025, permutations: 999, maxChanges: 3, confidence: 0.95, permuteUpTo: 5000 });

export interface ChangePoint {
  /** Start of the first UTC day after the change (the CUSUM's split). */
  readonly atMs: number;
  /** The date's likely range: that day and every split whose likelihood ratio is within χ²(1, 95%) of the largest. */
  readonly earliestMs: number;
  readonly latestMs: number;
  /** Outcomes and successes in the segment before and after (within the searched segment). */
  readonly beforeN: number;
  readonly beforeX: number;
  readonly afterN: number;
  readonly afterX: number;
  readonly beforeRate: number;
  readonly afterRate: number;
  /** afterRate − beforeRate with its Newcombe interval. */
  readonly size: number;
  readonly sizeLow: number;
  readonly sizeHigh: number;
  /** Permutation p-value (or its Bonferroni bound when that alone is decisive). */
  readonly pValue: number;
  /** The maximised log-likelihood ratio statistic. */
  readonly statistic: number;
}

/** x ln(x/n) + (n−x) ln(1 − x/n), with 0 ln 0 = 0. */
function logLik(x: number, n: number): number {
  if (n === 0) return 0;
  const a = x > 0 ? x * Math.log(x / n) : 0;
  const b = n - x > 0 ? (n - x) * Math.log((n - x) / n) : 0;
  return a + b;
}

interface Bins {
  readonly dayMs: number[];
  readonly x: number[];
  readonly n: number[];
}

export interface DayBinsState {
  readonly version: number;
  readonly dayMs: readonly number[];
  readonly x: readonly number[];
  readonly n: readonly number[];
}

/**
 * Outcomes binned by UTC day, kept up to date as outcomes come and go (a task's retry outcome moves
 * when an earlier run of it arrives): the dashboard keeps one per series instead of re-reading the runs.
 */
export class DayBins {
  private readonly days = new Map<number, { x: number; n: number }>();
  /** Changes on every add or remove: a cached answer for an older version is out of date. */
  version = 0;

  /** Adds an outcome, or with `count` -1 takes one added before away. */
  add(atMs: number, success: boolean, count: 1 | -1 = 1): void {
    this.version++;
    const d = Math.floor(atMs / MS_PER_DAY) * MS_PER_DAY;
    let b = this.days.get(d);
    if (b === undefined) this.days.set(d, (b = { x: 0, n: 0 }));
    b.n += count;
    if (success) b.x += count;
    if (b.n === 0) this.days.delete(d);
  }

  /** What these bins hold (DayBins.fromState makes them again). */
  state(): DayBinsState {
    const days = [...this.days];
    return { version: this.version, dayMs: days.map(([d]) => d), x: days.map(([, b]) => b.x), n: days.map(([, b]) => b.n) };
  }

  static fromState(s: DayBinsState): DayBins {
    const bins = new DayBins();
    bins.version = s.version;
    s.dayMs.forEach((d, i) => bins.days.set(d, { x: s.x[i]!, n: s.n[i]! }));
    return bins;
  }

  bins(): Bins {
    const keys = [...this.days.keys()].sort((a, b) => a - b);
    return { dayMs: keys, x: keys.map((k) => this.days.get(k)!.x), n: keys.map((k) => this.days.get(k)!.n) };
  }
}

function binByDay(series: readonly Outcome01[]): Bins {
  const days = new DayBins();
  for (const o of series) days.add(o.atMs, o.success);
  return days.bins();
}

/**
 * The scan at every admissible split k (bins [lo, k) vs [k, hi)): the likelihood-ratio statistic
 * (for the date's region and the Bonferroni bound) and the CUSUM |S_k − N_k·S/N| (the test
 * statistic: unlike the likelihood ratio it does not favour splits near the ends, so it keeps its
 * power for changes mid-series and for gradual trends).
 */
function scan(x: ArrayLike<number>, n: ArrayLike<number>, lo: number, hi: number, minSide: number): { best: number; at: number; bestLr: number; stats: Array<[number, number]> } {
  let nTot = 0;
  let xTot = 0;
  for (let i = lo; i < hi; i++) {
    nTot += n[i]!;
    xTot += x[i]!;
  }
  const whole = logLik(xTot, nTot);
  let nL = 0;
  let xL = 0;
  let best = -1;
  let at = -1;
  let bestLr = 0;
  const stats: Array<[number, number]> = [];
  for (let k = lo + 1; k < hi; k++) {
    nL += n[k - 1]!;
    xL += x[k - 1]!;
    if (nL < minSide || nTot - nL < minSide) continue;
    const lr = 2 * (logLik(xL, nL) + logLik(xTot - xL, nTot - nL) - whole);
    stats.push([k, lr]);
    const cusum = Math.abs(xL - (nL * xTot) / nTot);
    if (cusum > best + 1e-9) {
      best = cusum;
      at = k;
      bestLr = lr;
    }
  }
  return { best, at, bestLr, stats };
}

/** The CUSUM maximum alone, for the permutations. */
function cusumMax(x: ArrayLike<number>, n: ArrayLike<number>, lo: number, hi: number, minSide: number, nTot: number, xTot: number): number {
  let nL = 0;
  let xL = 0;
  let best = -1;
  for (let k = lo + 1; k < hi; k++) {
    nL += n[k - 1]!;
    xL += x[k - 1]!;
    if (nL < minSide || nTot - nL < minSide) continue;
    const c = Math.abs(xL - (nL * xTot) / nTot);
    if (c > best) best = c;
  }
  return best;
}

/**
 * P(sup |B(t)| > x) for a Brownian bridge B: the large-sample null of the CUSUM maximum divided by
 * sqrt(N p(1 − p)). The maximum over day boundaries only is no larger than over every outcome, so
 * in the limit this p-value errs on the safe side.
 */
export function kolmogorovUpper(x: number): number {
  if (x < 0.3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) sum += (k % 2 === 1 ? 2 : -2) * Math.exp(-2 * k * k * x * x);
  return Math.min(1, Math.max(0, sum));
}

/** P(χ²(1) > s). */
const chi2Upper1 = (s: number): number => 2 * (1 - normalCdf(Math.sqrt(Math.max(0, s))));

function pValueOf(bins: Bins, lo: number, hi: number, observed: number, observedLr: number, candidates: number, o: ChangePointOptions, seed: string): number {
  // At the CUSUM's split the likelihood ratio is at most its maximum, so this bound is conservative too.
  const bound = Math.min(1, candidates * chi2Upper1(observedLr));
  if (bound < o.alpha / 100) return bound;
  // The outcomes of the segment in bin order; a permutation reassigns them to the same bin sizes.
  let xTot = 0;
  let nTot = 0;
  for (let i = lo; i < hi; i++) {
    xTot += bins.x[i]!;
    nTot += bins.n[i]!;
  }
  if (nTot > o.permuteUpTo) {
    const p = xTot / nTot;
    return kolmogorovUpper(observed / Math.sqrt(nTot * p * (1 - p)));
  }
  const values: number[] = [];
  for (let i = lo; i < hi; i++) for (let j = 0; j < bins.n[i]!; j++) values.push(j < bins.x[i]! ? 1 : 0);
  const rng = createRng(seed);
  const px = new Float64Array(hi);
  let exceed = 0;
  let done = 0;
  for (; done < o.permutations; done++) {
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
    let v = 0;
    for (let i = lo; i < hi; i++) {
      let s = 0;
      for (let j = 0; j < bins.n[i]!; j++) s += values[v++]!;
      px[i] = s;
    }
    if (cusumMax(px, bins.n, lo, hi, o.minSide, values.length, xTot) >= observed - 1e-9) exceed++;
    // Past this many exceedances the p-value can no longer fall below alpha.
    if (exceed + 1 > o.alpha * (o.permutations + 1)) return (exceed + 1) / (done + 2);
  }
  return (exceed + 1) / (o.permutations + 1);
}

/**
 * Change points of a series, oldest first.
 * @param series outcomes in any order (they are binned by UTC day)
 * @param seed makes the permutation test reproducible: the same series and seed give the same answer
 */
export function changePoints(series: readonly Outcome01[], seed: string, options: Partial<ChangePointOptions> = {}): ChangePoint[] {
  return changePointsOfBins(binByDay(series), seed, options);
}

/** {@link changePoints} of outcomes already binned by day. */
export function changePointsOfBins(bins: Bins, seed: string, options: Partial<ChangePointOptions> = {}): ChangePoint[] {
  const o: ChangePointOptions = { ...DEFAULT_CHANGE_POINT_OPTIONS, ...options };
  const z = normalQuantileUpper((1 - o.confidence) / 2);
  const found: ChangePoint[] = [];
  const segments: Array<[number, number]> = [[0, bins.dayMs.length]];
  while (segments.length > 0 && found.length < o.maxChanges) {
    const [lo, hi] = segments.shift()!;
    const s = scan(bins.x, bins.n, lo, hi, o.minSide);
    if (s.at < 0) continue;
    const p = pValueOf(bins, lo, hi, s.best, s.bestLr, s.stats.length, o, `${seed}\u0000${lo}\u0000${hi}`);
    if (!(p < o.alpha)) continue;
    let bx = 0;
    let bn = 0;
    let ax = 0;
    let an = 0;
    for (let i = lo; i < hi; i++) {
      if (i < s.at) {
        bx += bins.x[i]!;
        bn += bins.n[i]!;
      } else {
        ax += bins.x[i]!;
        an += bins.n[i]!;
      }
    }
    const maxLr = Math.max(...s.stats.map(([, v]) => v));
    const region = [s.at, ...s.stats.filter(([, v]) => v >= maxLr - CHI2_1_95).map(([k]) => k)].map((k) => bins.dayMs[k]!);
    const [sizeLow, sizeHigh] = newcombeInterval(bx, bn, ax, an, z);
    found.push({
      atMs: bins.dayMs[s.at]!,
      earliestMs: Math.min(...region),
      latestMs: Math.max(...region),
      beforeN: bn,
      beforeX: bx,
      afterN: an,
      afterX: ax,
      beforeRate: bx / bn,
      afterRate: ax / an,
      size: ax / an - bx / bn,
      sizeLow,
      sizeHigh,
      pValue: p,
      statistic: s.best,
    });
    segments.push([lo, s.at], [s.at, hi]);
  }
  return found.sort((a, b) => a.atMs - b.atMs);
}
