/**
 * Change points under decay (PolicyConfig.decayChanges 'change-points': run-based decay from policy /8,
 * day-based decay from /11 with dayChangeHazard 'elapsed-time'): a Bayesian
 * online change-point posterior per template (Adams & MacKay 2007, "Bayesian online changepoint
 * detection"), so an interval includes the chance that the rate changed, weighed by what the order of the
 * runs says about it.
 *
 * Model: a template's rate is constant between change points; before each of its learnable runs a change
 * happens with hazard H, after which the rate is a fresh draw. A hypothesis is "the current segment began
 * at the template's run f"; its weight is updated run by run with the Beta predictive of the runs since f
 * (prior: the configured Beta(priorAlpha, priorBeta)). The hazard is not assumed: the configured half-life
 * sets its scale H₀ = 1 − 2^(−1/halfLife), and the posterior runs under each of HAZARD_MULTIPLES × H₀
 * (0 is "never changes"), each with its marginal likelihood, which a decision adds over the candidates
 * (the hazard is shared, as groupSpread shares the spread) to weigh the hazards. With a fixed hazard the
 * intervals were as wide as if a change were always likely (a scratch simulation of
 * test/bandit/decay.stat.test.ts's worlds with the true prior: 99.5% coverage with nothing changing); with
 * the hazard learned it gave 94.9% with nothing changing and 95.7% one half-life after a change (the
 * service: 94.5% and 94.0%; docs/adr/0007-change-points-under-decay.md).
 *
 * What is kept: every stats record of the template (global, task class, repository, cell) keeps its runs'
 * sums since each kept f (`WindowCounts`), and the global record the hypotheses' weights per hazard
 * (`ChangeRecord`). Each run counts once at every level: under hypothesis f every level holds exactly its
 * runs since the template's run f. Hypotheses below the KEPT_PER_HAZARD most probable of every hazard are
 * dropped for good, so a level updated later never needs one it did not keep: a kept f the level lacks
 * began after the level's last run (its sums there are 0).
 */
import type { PolicyConfig } from './config.js';
import type { ArmChanges, ChangeRecord, Evidence, WindowCounts } from './types.js';

/** The hazards, as multiples of the half-life's H₀ = 1 − 2^(−1/halfLife) per template run. */
const HAZARD_MULTIPLES: readonly number[] = [0, 1, 4];
// Hypotheses kept per hazard: one half-life after a change the test's intervals covered 91.3% keeping 12,
// 92.6% keeping 24 and 94.0% keeping 48 (1,000 intervals each). Every kept one costs each of the template's
// records three sums; the decision pools segments of them (changeSegments), not each one.
const KEPT_PER_HAZARD = 48;
// Hypotheses lighter than this share of a template's posterior are left out of its mixture.
const NEGLIGIBLE_WEIGHT = 1e-4;

/** Whether the policy keeps change points (run-based decay under policy /8, day-based decay under /11). */
export const keepsChangePoints = (config: Pick<PolicyConfig, 'decay' | 'decayChanges' | 'dayChangeHazard'>): boolean =>
  config.decayChanges === 'change-points' &&
  config.decay !== null &&
  (config.decay.unit === 'runs' || config.dayChangeHazard === 'elapsed-time');

const MS_PER_DAY = 86_400_000;
// Below 1 so that no hypothesis's weight becomes −∞ after a long silence (a record keeps finite numbers).
const MAX_ELAPSED_HAZARD = 1 - 1e-9;

/**
 * The chance of a change before a run under each hazard. Run-based decay (policy /8): per run, its multiple of
 * H₀ = 1 − 2^(−1/halfLife), at most one half. Day-based decay (/11): over the days elapsed, 1 − 2^(−m·days/halfLife),
 * the chance of a change in a process whose rate the half-life sets (no per-run cap: a long silence
 * makes a change nearly certain).
 */
function hazardsBefore(config: PolicyConfig, elapsedDays?: number): number[] {
  const halfLife = config.decay!.halfLife;
  if (elapsedDays === undefined) {
    const h0 = 1 - Math.pow(2, -1 / halfLife);
    return HAZARD_MULTIPLES.map((m) => Math.min(m * h0, 0.5));
  }
  return HAZARD_MULTIPLES.map((m) => Math.min(-Math.expm1((-m * elapsedDays * Math.LN2) / halfLife), MAX_ELAPSED_HAZARD));
}

const EMPTY_HAZARDS: ChangeRecord['hazards'] = HAZARD_MULTIPLES.map(() => ({ logLik: 0, froms: [], logWeights: [] }));

function logSumExp(xs: readonly number[]): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return max;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s);
}

/** `w`'s sums since `f`: 0 where it does not keep `f` (it began after the level's last run). */
function since(w: WindowCounts | undefined, f: number): { reward: number; trials: number; passes: number } {
  const k = w === undefined ? -1 : w.froms.indexOf(f);
  return k < 0 ? { reward: 0, trials: 0, passes: 0 } : { reward: w!.reward[k]!, trials: w!.trials[k]!, passes: w!.passes[k]! };
}

/**
 * The template's change-point posterior after one more learnable run (reward in [0, 1]), given its global
 * record's sums before the run. Under day-based decay the hazard before the run is over the days since the
 * template's latest run (none for a run that finished before it).
 */
export function updateChanges(prev: ChangeRecord | undefined, global: WindowCounts | undefined, reward: number, config: PolicyConfig, finishedAtMs: number): ChangeRecord {
  const t = (prev?.runs ?? 0) + 1;
  const days = config.decay!.unit === 'days';
  const lastMs = prev?.lastMs;
  const perRun = hazardsBefore(config, days ? (lastMs === undefined ? 0 : Math.max(0, finishedAtMs - lastMs) / MS_PER_DAY) : undefined);
  const a0 = config.priorAlpha;
  const b0 = config.priorBeta;
  const hazards = (prev?.hazards ?? EMPTY_HAZARDS).map((h, g) => {
    const hazard = perRun[g]!;
    const froms = [...h.froms];
    const weights = h.logWeights.map((w) => w + Math.log1p(-hazard));
    // A segment beginning with this run: the chance of a change before it (the first run always begins one).
    if (froms.length === 0 || hazard > 0) {
      froms.push(t);
      weights.push(froms.length === 1 ? 0 : Math.log(hazard) + logSumExp(h.logWeights));
    }
    // Each hypothesis's Beta predictive of this run (a fractional reward as a fractional Bernoulli).
    for (let k = 0; k < froms.length; k++) {
      const s = since(global, froms[k]!);
      const p = (a0 + s.reward) / (a0 + b0 + s.trials);
      weights[k] = weights[k]! + reward * Math.log(p) + (1 - reward) * Math.log1p(-p);
    }
    const z = logSumExp(weights);
    // The most probable hypotheses (ties: the later change point), in the order of their change points.
    const kept = froms
      .map((_, k) => k)
      .sort((x, y) => weights[y]! - weights[x]! || froms[y]! - froms[x]!)
      .slice(0, KEPT_PER_HAZARD)
      .sort((x, y) => froms[x]! - froms[y]!);
    const zKept = logSumExp(kept.map((k) => weights[k]!));
    return { logLik: h.logLik + z, froms: kept.map((k) => froms[k]!), logWeights: kept.map((k) => weights[k]! - zKept) };
  });
  return days ? { runs: t, hazards, lastMs: Math.max(lastMs ?? -Infinity, finishedAtMs) } : { runs: t, hazards };
}

/** A level's sums since each change point `record` keeps, with one more run of the template in the level. */
export function updateWindows(prev: WindowCounts | undefined, record: ChangeRecord, reward: number, pass: boolean): WindowCounts {
  const froms = [...new Set(record.hazards.flatMap((h) => h.froms))].sort((x, y) => x - y);
  const sums = froms.map((f) => since(prev, f));
  return {
    froms,
    reward: sums.map((s) => s.reward + reward),
    trials: sums.map((s) => s.trials + 1),
    passes: sums.map((s) => s.passes + (pass ? 1 : 0)),
  };
}

/** The posterior weight of each hazard, from the candidates' change records (uniform prior over the hazards). */
export function hazardWeights(records: ReadonlyArray<ChangeRecord | undefined>): number[] {
  const logLik = HAZARD_MULTIPLES.map((_, g) => records.reduce((s, r) => s + (r?.hazards[g]?.logLik ?? 0), 0));
  const z = logSumExp(logLik);
  return logLik.map((l) => Math.exp(l - z));
}

/**
 * A template's change-point hypotheses under the hazards' weights: each change point with its weight (summing
 * to 1). Under day-based decay the rate may also have changed since the template's latest run, before `nowMs`:
 * that hypothesis is the change point after its last run (no runs since it at any level).
 */
export function changePoints(record: ChangeRecord, hazards: readonly number[], config: PolicyConfig, nowMs: number): Array<{ from: number; weight: number }> {
  const idle = record.lastMs === undefined ? undefined : hazardsBefore(config, Math.max(0, nowMs - record.lastMs) / MS_PER_DAY);
  const byFrom = new Map<number, number>();
  record.hazards.forEach((h, g) => {
    const stays = idle === undefined ? 1 : 1 - idle[g]!;
    h.froms.forEach((f, k) => byFrom.set(f, (byFrom.get(f) ?? 0) + hazards[g]! * stays * Math.exp(h.logWeights[k]!)));
    if (idle !== undefined && idle[g]! > 0) byFrom.set(record.runs + 1, (byFrom.get(record.runs + 1) ?? 0) + hazards[g]! * idle[g]!);
  });
  const out = [...byFrom].filter(([, w]) => w >= NEGLIGIBLE_WEIGHT).sort(([x], [y]) => x - y);
  const total = out.reduce((s, [, w]) => s + w, 0);
  return out.map(([from, w]) => ({ from, weight: w / total }));
}

/**
 * The runs that speak for a template's current rate: its global record's sums since each change point,
 * averaged over the change points' weights. What the base prior is fitted to under change points: the
 * decayed sums mix the rates before and after a change, which made templates look alike and the fitted
 * prior too strong (a template 30 runs after a change was pulled 0.1 towards the others).
 */
export function currentEvidence(record: ChangeRecord, global: WindowCounts | undefined, hazards: readonly number[], config: PolicyConfig, nowMs: number): Evidence {
  let reward = 0;
  let trials = 0;
  let passes = 0;
  for (const { from, weight } of changePoints(record, hazards, config, nowMs)) {
    const s = since(global, from);
    reward += weight * s.reward;
    trials += weight * s.trials;
    passes += weight * s.passes;
  }
  return { reward, trials, stamp: 0, passes };
}

// Adjacent change points whose global sums differ by at most this share of the smaller are pooled as one
// (their sums averaged by weight): their posteriors nearly agree, and each one pooled costs a posterior
// per candidate per base-prior component.
const MERGE_SPAN = 0.25;

/** One group of adjacent change points: its weight and each level's sums since them, averaged by weight. */
export interface ChangeSegment {
  readonly weight: number;
  readonly global: Evidence;
  readonly taskClass: Evidence;
  readonly repoTaskClass: Evidence;
}

/**
 * A template's change points under the hazards' weights, adjacent ones whose runs since them nearly agree
 * grouped into one segment: what a decision pools, once per segment.
 */
export function changeSegments(changes: ArmChanges, hazards: readonly number[], config: PolicyConfig, nowMs: number): ChangeSegment[] {
  const points = changePoints(changes.record, hazards, config, nowMs);
  const groups: Array<Array<{ from: number; weight: number }>> = [];
  for (const p of points) {
    const group = groups[groups.length - 1];
    const oldest = group === undefined ? 0 : since(changes.global, group[0]!.from).trials;
    if (group !== undefined && oldest - since(changes.global, p.from).trials <= MERGE_SPAN * since(changes.global, p.from).trials) group.push(p);
    else groups.push([p]);
  }
  return groups.map((group) => {
    const weight = group.reduce((t, p) => t + p.weight, 0);
    const average = (w: WindowCounts | undefined): Evidence => {
      let reward = 0;
      let trials = 0;
      let passes = 0;
      for (const p of group) {
        const s = since(w, p.from);
        reward += (p.weight / weight) * s.reward;
        trials += (p.weight / weight) * s.trials;
        passes += (p.weight / weight) * s.passes;
      }
      return { reward, trials, stamp: 0, passes };
    };
    return { weight, global: average(changes.global), taskClass: average(changes.taskClass), repoTaskClass: average(changes.repoTaskClass) };
  });
}
