import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { EMPTY_GROUP_SUMS, EMPTY_PARENT_RATE_SUMS, groupLogLikelihood, replaceGroup, SPREAD_GRID, spreadPosterior, spreadSummary } from '../../src/bandit/spread.js';
import { createRng } from '../../src/bandit/index.js';

const ev = (trials: number, reward: number) => ({ trials, reward, stamp: 0 });
const record = fc.record({ trials: fc.integer({ min: 1, max: 500 }), frac: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ trials, frac }) => ev(trials, Math.round(trials * frac)));

describe('spread sums', () => {
  // Policy /9's sums at the parent's rate (read at one parent's rate) as well as the own-rate sums.
  for (const [name, empty] of [['', EMPTY_GROUP_SUMS], [' (sums at the parent rate, policy /9)', EMPTY_PARENT_RATE_SUMS]] as const) {
    test.prop([fc.array(record, { minLength: 1, maxLength: 8 }), record])(`replacing a group is removing it and adding the new record${name}`, (groups, next) => {
      let sums = empty;
      for (const g of groups) sums = replaceGroup(sums, undefined, g);
      const replaced = replaceGroup(sums, groups[0], next);
      let direct = empty;
      for (const g of [next, ...groups.slice(1)]) direct = replaceGroup(direct, undefined, g);
      expect(replaced.count).toBe(direct.count);
      expect(replaced.squares).toBeCloseTo(direct.squares, 6);
      const parent = ev(1000, 370);
      const a = groupLogLikelihood(replaced, parent);
      const b = groupLogLikelihood(direct, parent);
      a.forEach((x, j) => expect(Math.abs(x - b[j]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(b[j]!))));
    });
  }

  test.prop([fc.array(record, { minLength: 2, maxLength: 12 })])(
    "at the parent rate the log-likelihood read from the sums is the direct one (each group's variance 1/(n p(1 − p)) at the parent rate p) within 0.004 nats or 0.1% of its size",
    (groups) => {
      let sums = EMPTY_PARENT_RATE_SUMS;
      for (const g of groups) sums = replaceGroup(sums, undefined, g);
      const parent = ev(groups.reduce((s, g) => s + g.trials, 0), groups.reduce((s, g) => s + g.reward, 0));
      const p = (parent.reward + 0.5) / (parent.trials + 1);
      const got = groupLogLikelihood(sums, parent);
      SPREAD_GRID.forEach((tau, j) => {
        let sw = 0;
        let swy = 0;
        let swyy = 0;
        let slw = 0;
        for (const g of groups) {
          const y = Math.log((g.reward + 0.5) / (g.trials - g.reward + 0.5));
          const w = 1 / (tau * tau + 1 / (g.trials * p * (1 - p)));
          sw += w;
          swy += w * y;
          swyy += w * y * y;
          slw += Math.log(w);
        }
        const direct = 0.5 * slw - 0.5 * (swyy - (swy * swy) / sw) - 0.5 * Math.log(sw);
        expect(Math.abs(got[j]! - direct)).toBeLessThan(Math.max(0.004, 1e-3 * Math.abs(direct)));
      });
    },
  );

  test('one group says nothing about the spread', () => {
    const sums = replaceGroup(EMPTY_GROUP_SUMS, undefined, ev(100, 30));
    expect(groupLogLikelihood(sums).every((x) => x === 0)).toBe(true);
  });

  test('the posterior of the between-group sd finds a spread that is there, and none where there is none', () => {
    const rng = createRng('spread');
    for (const tau of [0, 0.5, 1]) {
      let sums = EMPTY_GROUP_SUMS;
      for (let g = 0; g < 20; g++) {
        const z = Math.sqrt(-2 * Math.log(rng.next() || 1e-12)) * Math.cos(2 * Math.PI * rng.next());
        const p = 1 / (1 + Math.exp(-(0.3 + tau * z)));
        let r = 0;
        for (let i = 0; i < 400; i++) r += rng.next() < p ? 1 : 0;
        sums = replaceGroup(sums, undefined, ev(400, r));
      }
      const { mean, upper } = spreadSummary(spreadPosterior(groupLogLikelihood(sums)));
      // 20 groups: the sd is known to within ~±35%; with no spread the 97.5% point stays small.
      if (tau === 0) expect(upper).toBeLessThan(0.2);
      else expect(Math.abs(mean / tau - 1)).toBeLessThan(0.4);
    }
  });

  test('the grid starts at 0 and is increasing', () => {
    expect(SPREAD_GRID[0]).toBe(0);
    for (let j = 1; j < SPREAD_GRID.length; j++) expect(SPREAD_GRID[j]!).toBeGreaterThan(SPREAD_GRID[j - 1]!);
  });
});
