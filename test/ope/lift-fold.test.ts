/**
 * The lift the dashboard keeps between builds (LiftFold): a fold of some decisions, saved and made
 * again from its state and given the rest, estimates what liftOverUniform of them all estimates, to
 * the last bit; it is a prefix only of lists that begin with its decisions value for value.
 */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { LiftFold, liftOverUniform, type LoggedDecision } from '../../src/ope/index.js';

const ARMS = ['a', 'b', 'c', 'd'];
const decision = fc.record({
  context: fc.constantFrom('x\u0000r1', 'x\u0000r2', 'y\u0000r1'),
  candidates: fc.constantFrom(ARMS, ARMS.slice(0, 2), ARMS.slice(1)),
  pick: fc.nat(),
  propensity: fc.double({ min: 0.01, max: 1, noNaN: true }),
  reward: fc.constantFrom(0, 0.5, 1),
}).map(({ pick, ...d }): LoggedDecision => ({ ...d, chosen: d.candidates[pick % d.candidates.length]! }));

test.prop([fc.array(decision, { minLength: 1, maxLength: 60 }), fc.nat()], { numRuns: 50 })(
  'a fold saved part-way and given the rest estimates what one pass does',
  (decisions, at) => {
    const cut = at % (decisions.length + 1);
    const first = new LiftFold();
    for (const d of decisions.slice(0, cut)) first.add(d);
    const again = LiftFold.fromState(structuredClone(first.state()));
    // Copies of the same values (a restored log's decisions are other objects).
    const copies = structuredClone(decisions);
    expect(again.isPrefixOf(copies)).toBe(true);
    for (const d of copies.slice(cut)) again.add(d);
    expect(again.estimate()).toEqual(liftOverUniform(decisions));
    if (cut > 0) {
      const changed = copies.map((d, i) => (i === cut - 1 ? { ...d, reward: d.reward === 1 ? 0 : 1 } : d));
      expect(first.isPrefixOf(changed)).toBe(false);
      expect(first.isPrefixOf(decisions.slice(0, cut - 1))).toBe(false);
    }
  },
);
