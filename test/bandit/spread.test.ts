import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { EMPTY_GROUP_SUMS, groupLogLikelihood, replaceGroup, SPREAD_GRID, spreadPosterior, spreadSummary } from '../../src/bandit/spread.js';
import { createRng } from '../../src/bandit/index.js';

const ev = (trials: number, reward: number) => ({ trials, reward, stamp: 0 });
const record = fc.record({ trials: fc.integer({ min: 1, max: 500 }), frac: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ trials, frac }) => ev(trials, Math.round(trials * frac)));

describe('spread sums', () => {
  test.prop([fc.array(record, { minLength: 1, maxLength: 8 }), record])('replacing a group is removing it and adding the new record', (groups, next) => {
    let sums = EMPTY_GROUP_SUMS;
    for (const g of groups) sums = replaceGroup(sums, undefined, g);
    const replaced = replaceGroup(sums, groups[0], next);
    let direct = EMPTY_GROUP_SUMS;
    for (const g of [next, ...groups.slice(1)]) direct = replaceGroup(direct, undefined, g);
    expect(replaced.count).toBe(direct.count);
    expect(replaced.squares).toBeCloseTo(direct.squares, 6);
    const a = groupLogLikelihood(replaced);
    const b = groupLogLikelihood(direct);
    a.forEach((x, j) => expect(Math.abs(x - b[j]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(b[j]!))));
  });

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
