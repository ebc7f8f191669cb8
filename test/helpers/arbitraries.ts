import { fc } from '@fast-check/vitest';
import type { ArmEvidence, Evidence } from '../../src/bandit/index.js';
import { asArmId } from '../../src/bandit/index.js';

/** Evidence as a no-decay history produces it: 0 ≤ reward ≤ trials. */
export const evidence: fc.Arbitrary<Evidence> = fc
  .tuple(fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([trials, rate]) => ({ trials, reward: trials * rate, stamp: 0 }));

/** Nested evidence for one arm: the cell is part of its task class, which is part of the global record. */
export const pooledEvidence = fc
  .tuple(evidence, evidence, evidence)
  .map(([cell, moreClass, moreGlobal]) => {
    const tc = { trials: cell.trials + moreClass.trials, reward: cell.reward + moreClass.reward, stamp: 0 };
    const global = { trials: tc.trials + moreGlobal.trials, reward: tc.reward + moreGlobal.reward, stamp: 0 };
    return { global, taskClass: tc, repoTaskClass: cell };
  });

export const armEvidence = (id: string): fc.Arbitrary<ArmEvidence> =>
  pooledEvidence.map((evidence) => ({ armId: asArmId(id), evidence }));

export const armSet: fc.Arbitrary<ArmEvidence[]> = fc
  .integer({ min: 1, max: 12 })
  .chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => armEvidence(`t${i}@v1`))));

/** Outcomes of a run history. */
export const outcome = fc.constantFrom('pass', 'partial', 'fail', 'timeout', 'infra_error' as const);
