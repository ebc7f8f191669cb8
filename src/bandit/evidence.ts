import type { DecayConfig, PolicyConfig } from './config.js';
import type { Evidence, Outcome, PooledEvidence } from './types.js';

export const EMPTY_EVIDENCE: Evidence = Object.freeze({ reward: 0, trials: 0, stamp: 0 });

const MS_PER_DAY = 86_400_000;

/**
 * The reward an outcome teaches, or null when it teaches nothing.
 * Infra errors are not the template's fault, so they are recorded but never learned from; an
 * unverified run says nothing about whether the work was right, so it teaches nothing either.
 */
export function rewardOf(outcome: Outcome, config: PolicyConfig): number | null {
  switch (outcome) {
    case 'pass':
      return 1;
    case 'partial':
      return config.partialReward;
    case 'fail':
    case 'timeout':
      return 0;
    case 'infra_error':
    case 'unverified':
      return null;
  }
}

function decayFactor(decay: DecayConfig, elapsed: number): number {
  const units = decay.unit === 'days' ? elapsed / MS_PER_DAY : elapsed;
  return Math.pow(2, -units / decay.halfLife);
}

/** Every run's weight times `f` (squared weights times f²); the stamp is left to the caller. */
function scale(e: Evidence, f: number, stamp: number): Evidence {
  const out: { -readonly [K in keyof Evidence]: Evidence[K] } = { reward: e.reward * f, trials: e.trials * f, stamp };
  if (e.passes !== undefined) out.passes = e.passes * f;
  if (e.squares !== undefined) out.squares = e.squares * f * f;
  return out;
}

/** `e` plus one run of weight `w`. */
function plus(e: Evidence, reward: number, pass: boolean | undefined, w: number, stamp: number, squares: boolean): Evidence {
  const out: { -readonly [K in keyof Evidence]: Evidence[K] } = { reward: e.reward + w * reward, trials: e.trials + w, stamp };
  if (pass !== undefined) out.passes = (e.passes ?? 0) + (pass ? w : 0);
  if (squares) out.squares = (e.squares ?? e.trials) + w * w;
  return out;
}

/**
 * Whether every level of a template decays on the template's one clock, with squared weights kept for
 * the effective sample size (PolicyConfig.decayModel, policy /5).
 */
const templateClock = (config: Pick<PolicyConfig, 'decay' | 'decayModel'>): boolean => config.decay !== null && config.decayModel === 'template-clock';

/**
 * Adds one run's reward to the evidence, forgetting old evidence when decay is on.
 * Day-based decay (and run-based decay on the template clock) keeps the sum Σ wᵢ·2^(−(stamp − tᵢ)/halfLife)
 * at the newest clock reading, so the result does not depend on the order runs arrive in.
 * @param reward in [0, 1]
 * @param at the run's place on the decay clock: its finish time in ms for day-based decay; for run-based
 *   decay on the template clock, the template's learnable-run count including this run (see {@link learnRun})
 * @param pass whether the run passed, counted in `passes` alongside the reward (undefined: not counted)
 * @param squares keep Σw² for the effective sample size
 */
export function addReward(e: Evidence, reward: number, at: number, decay: DecayConfig | null, pass?: boolean, squares = false): Evidence {
  if (decay === null) return plus(e, reward, pass, 1, 0, false);
  if (decay.unit === 'runs' && !squares) {
    // Policies ≤ /4: each segment counts its own runs.
    return plus(scale(e, decayFactor(decay, 1), e.stamp), reward, pass, 1, e.stamp + 1, false);
  }
  if (e.trials === 0 || at >= e.stamp) {
    const f = e.trials === 0 ? 1 : decayFactor(decay, at - e.stamp);
    return plus(scale(e, f, at), reward, pass, 1, at, squares);
  }
  return plus(e, reward, pass, decayFactor(decay, e.stamp - at), e.stamp, squares);
}

/**
 * One learnable run added to every segment it counts in (`segments[0]` the template's global record).
 * On the template clock (PolicyConfig.decayModel 'template-clock') a run-based clock reading is the
 * template's learnable-run count, taken from the global record, so a run carries the same weight at every
 * level and "global minus task class" holds exactly the other classes' runs; policies ≤ /4 gave each
 * segment its own run count, which left another class's runs in that difference.
 */
export function learnRun(segments: readonly Evidence[], reward: number, pass: boolean, finishedAtMs: number, config: Pick<PolicyConfig, 'decay' | 'decayModel'>): Evidence[] {
  const squares = templateClock(config);
  const at = squares && config.decay!.unit === 'runs' ? (segments[0]?.stamp ?? 0) + 1 : finishedAtMs;
  return segments.map((e) => addReward(e, reward, at, config.decay, pass, squares));
}

/** The evidence decayed from its stamp to the later clock reading `now` (in the decay's unit: ms or runs). */
function decayTo(e: Evidence, now: number, decay: DecayConfig): Evidence {
  return e.trials === 0 || now <= e.stamp ? e : scale(e, decayFactor(decay, now - e.stamp), now);
}

/**
 * The evidence as seen at `nowMs`: day-based decay also forgets between the last run and now.
 * Run-based decay and no decay return the evidence unchanged (run clocks do not move with time).
 */
export function evidenceAt(e: Evidence, nowMs: number, decay: DecayConfig | null): Evidence {
  return decay === null || decay.unit === 'runs' ? e : decayTo(e, nowMs, decay);
}

/**
 * A template's three levels on its one clock (the global record's run count) when run-based decay uses
 * the template clock: a task class or cell last updated k template runs ago has decayed k runs since.
 * Otherwise returned as is (day-based decay brings every level to the decision time in pooling).
 */
export function onTemplateClock(levels: PooledEvidence, config: Pick<PolicyConfig, 'decay' | 'decayModel'>): PooledEvidence {
  if (!templateClock(config) || config.decay!.unit !== 'runs') return levels;
  const now = levels.global.stamp;
  const at = (e: Evidence | undefined) => e && decayTo(e, now, config.decay!);
  return { ...levels, taskClass: at(levels.taskClass), repoTaskClass: at(levels.repoTaskClass) };
}

/**
 * Evidence in `outer` that is not in `inner` (e.g. a task class's other repositories).
 * Both are first brought to the same decay clock; rounding can leave tiny negatives, clamped to 0.
 */
export function subtractEvidence(outer: Evidence, inner: Evidence, decay: DecayConfig | null): Evidence {
  let o = outer;
  let i = inner;
  if (decay !== null && (decay.unit === 'days' || o.squares !== undefined)) {
    const t = Math.max(o.stamp, i.stamp);
    o = decayTo(o, t, decay);
    i = decayTo(i, t, decay);
  }
  const trials = Math.max(0, o.trials - i.trials);
  const out: { -readonly [K in keyof Evidence]: Evidence[K] } = { reward: Math.min(trials, Math.max(0, o.reward - i.reward)), trials, stamp: o.stamp };
  // An empty record (EMPTY_EVIDENCE, a level with no runs yet) holds no passes and no squares: 0, not unknown.
  const field = (e: Evidence, k: 'passes' | 'squares') => e[k] ?? (e.trials === 0 ? 0 : undefined);
  const [op, ip, os, is] = [field(o, 'passes'), field(i, 'passes'), field(o, 'squares'), field(i, 'squares')];
  if (op !== undefined && ip !== undefined && (o.passes !== undefined || i.passes !== undefined)) out.passes = Math.min(trials, Math.max(0, op - ip));
  if (os !== undefined && is !== undefined && (o.squares !== undefined || i.squares !== undefined)) out.squares = Math.min(trials, Math.max(0, os - is));
  return out;
}

/**
 * What decayed evidence is worth as plain runs: Kish's effective sample size n = (Σw)²/Σw² runs with the
 * same mean reward (and pass rate). Σw alone overstates nothing but understates precision: with
 * geometric weights n ≈ (1 + f)·Σw, so a posterior of strength Σw read 1.4× too wide with nothing
 * changing. Evidence without squared weights (no decay, or policies ≤ /4) is returned as is.
 * Reference: Kish (1965), Survey Sampling, §11.7.
 */
export function effectiveEvidence(e: Evidence): Evidence {
  if (e.squares === undefined || !(e.squares > 0) || !(e.trials > 0)) return e;
  const f = e.trials / e.squares;
  const out: { -readonly [K in keyof Evidence]: Evidence[K] } = { reward: e.reward * f, trials: e.trials * f, stamp: e.stamp };
  if (e.passes !== undefined) out.passes = e.passes * f;
  return out;
}
