import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { createRng, type Rng } from '../../src/bandit/index.js';
import { estimate, liftOverUniform, uniformPolicy, type LoggedDecision } from '../../src/ope/index.js';

/**
 * A logging policy whose propensities vary from decision to decision (as Thompson sampling's do):
 * per decision, softmax of the arms' true rates with a random temperature, over six arms in three
 * contexts. The true values of uniform and of the logging policy follow from the generator.
 */
const CONTEXTS = ['x', 'y', 'z'];
const ARMS = ['a', 'b', 'c', 'd', 'e', 'f'];
const RATES: Record<string, number[]> = { x: [0.7, 0.5, 0.3, 0.2, 0.45, 0.6], y: [0.3, 0.6, 0.4, 0.2, 0.5, 0.35], z: [0.55, 0.25, 0.65, 0.4, 0.3, 0.5] };
const TEMPERATURES = [0.1, 0.2, 0.4];

const softmax = (rates: readonly number[], t: number) => {
  const e = rates.map((r) => Math.exp(r / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const trueUniform = CONTEXTS.reduce((s, c) => s + RATES[c]!.reduce((a, b) => a + b, 0) / ARMS.length, 0) / CONTEXTS.length;
const trueLogging =
  CONTEXTS.reduce((s, c) => s + TEMPERATURES.reduce((a, t) => a + softmax(RATES[c]!, t).reduce((b, p, i) => b + p * RATES[c]![i]!, 0), 0) / TEMPERATURES.length, 0) /
  CONTEXTS.length;

function simulateLog(n: number, rng: Rng): LoggedDecision[] {
  const out: LoggedDecision[] = [];
  for (let i = 0; i < n; i++) {
    const context = CONTEXTS[Math.floor(rng.next() * CONTEXTS.length)]!;
    const probs = softmax(RATES[context]!, TEMPERATURES[Math.floor(rng.next() * TEMPERATURES.length)]!);
    let u = rng.next();
    let k = 0;
    while (k < probs.length - 1 && (u -= probs[k]!) >= 0) k++;
    out.push({ context, candidates: ARMS, chosen: ARMS[k]!, propensity: probs[k]!, reward: rng.next() < RATES[context]![k]! ? 1 : 0 });
  }
  return out;
}

describe('bounded-cost lift', () => {
  const decision = fc.record({
    context: fc.constantFrom('x', 'y', 'z'),
    candidates: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 5 }),
    pick: fc.nat(),
    // Another arm than the candidates now and then: its weight is 0, as in estimate().
    stray: fc.boolean(),
    propensity: fc.double({ min: 0.01, max: 1, noNaN: true }),
    reward: fc.constantFrom(0, 0.5, 1),
  });
  const logs = fc.array(decision, { minLength: 1, maxLength: 60 }).map((ds) =>
    ds.map((d): LoggedDecision => ({ context: d.context, candidates: d.candidates, chosen: d.stray && d.pick % 7 === 0 ? 'e' : d.candidates[d.pick % d.candidates.length]!, propensity: d.propensity, reward: d.reward })),
  );

  fcTest.prop([logs])('the indexed sums give estimate()\'s point estimates (repeated candidates and strays included)', (log) => {
    const e = estimate(log, uniformPolicy);
    const deployed = log.reduce((s, d) => s + d.reward, 0) / log.length;
    const est = liftOverUniform(log);
    const clip = (x: number, lo: number) => Math.min(1, Math.max(lo, x));
    expect(est.deployed.estimate).toBeCloseTo(deployed, 12);
    for (const k of ['ips', 'snips', 'dr'] as const) {
      if (Number.isNaN(e[k])) continue;
      expect(est.uniform[k].estimate).toBeCloseTo(clip(e[k], 0), 12);
      expect(est.lift[k].estimate).toBeCloseTo(clip(deployed - e[k], -1), 12);
    }
  });

  test('influence-function intervals cover the true uniform value and the true lift at about 95%', () => {
    const rng = createRng('influence-coverage');
    const reps = 400;
    const covered = { uniform: { ips: 0, snips: 0, dr: 0 }, lift: { ips: 0, snips: 0, dr: 0 }, deployed: 0 };
    for (let r = 0; r < reps; r++) {
      const est = liftOverUniform(simulateLog(5000, rng));
      if (est.deployed.ciLow <= trueLogging && trueLogging <= est.deployed.ciHigh) covered.deployed++;
      for (const k of ['ips', 'snips', 'dr'] as const) {
        if (est.uniform[k].ciLow <= trueUniform && trueUniform <= est.uniform[k].ciHigh) covered.uniform[k]++;
        if (est.lift[k].ciLow <= trueLogging - trueUniform && trueLogging - trueUniform <= est.lift[k].ciHigh) covered.lift[k]++;
      }
    }
    // Coverage is a binomial proportion over the replications: within 3 standard errors of 95%.
    // (Small logs with heavy weights: test/ope/coverage.stat.test.ts.)
    const se = Math.sqrt((0.95 * 0.05) / reps);
    for (const c of [covered.deployed, ...Object.values(covered.uniform), ...Object.values(covered.lift)]) expect(Math.abs(c / reps - 0.95)).toBeLessThan(3 * se);
  }, 120_000);
});
