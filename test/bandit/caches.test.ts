import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  asArmId,
  asDecisionId,
  candidateSetKey,
  DEFAULT_POLICY_CONFIG,
  recommend,
  type ArmEvidence,
  type Memo,
  type PolicyCaches,
} from '../../src/bandit/index.js';
import { armSet, evidence } from '../helpers/arbitraries.js';

const cfg = { ...DEFAULT_POLICY_CONFIG, summarySamples: 400 };
const input = (arms: ArmEvidence[], decisionId: string, topK = 0) => ({
  decisionId: asDecisionId(decisionId),
  context: { taskClass: 'bug-fix', repo: 'org/app' },
  arms,
  nowMs: 0,
  topK,
});

/** A Map-backed memo that counts its hits. */
function memo<V>(): Memo<V> & { hits: number } {
  const map = new Map<string, V>();
  return {
    hits: 0,
    get(key) {
      const v = map.get(key);
      if (v !== undefined) this.hits++;
      return v;
    },
    set: (key, value) => void map.set(key, value),
  };
}

/** A copy of the arms with fresh objects (as a store re-read returns them). */
const copy = (arms: readonly ArmEvidence[]): ArmEvidence[] => JSON.parse(JSON.stringify(arms)) as ArmEvidence[];

/** Evidence that may be missing at the narrower levels, as a context without task class or repo gives. */
const maybeLevel = fc.option(evidence, { nil: undefined });
const pooled = fc.record({ global: evidence, taskClass: maybeLevel, repoTaskClass: maybeLevel });
/**
 * Two versions of a pool of arms (the same ids, some with a parent, before and after new evidence);
 * candidate sets are drawn from either, in any order, so equal ids must not be enough for a hit.
 */
const pools = fc
  .array(fc.tuple(pooled, pooled, fc.option(pooled, { nil: undefined })), { minLength: 2, maxLength: 8 })
  .map((entries) =>
    [0, 1].map((v) =>
      entries.map(([before, after, parent], i): ArmEvidence => ({
        armId: asArmId(`t${i}@v1`),
        evidence: v === 0 ? before : after,
        parent: parent === undefined ? undefined : { armId: asArmId(`t${i}@v0`), evidence: parent },
      })),
    ),
  );
const requests = pools.chain(([a, b]) =>
  fc.array(
    fc.tuple(fc.boolean(), fc.shuffledSubarray(a!.map((_, i) => i), { minLength: 1 }), fc.string({ maxLength: 6 })).map(([later, picked, id]) => ({
      arms: picked.map((i) => (later ? b! : a!)[i]!),
      id,
    })),
    { minLength: 1, maxLength: 8 },
  ),
);

describe('policy caches', () => {
  test.prop([
    requests,
    fc.constantFrom(cfg, { ...cfg, decay: { halfLife: 30, unit: 'days' as const } }, { ...cfg, decay: { halfLife: 50, unit: 'runs' as const } }),
  ])('many candidate sets through one shared cache decide exactly as without it', (reqs, config) => {
    const caches: PolicyCaches = { sets: memo(), summaries: memo() };
    for (const { arms, id } of reqs) {
      expect(recommend(input(copy(arms), id), config, caches)).toEqual(recommend(input(arms, id), config));
    }
  });

  test.prop([armSet, fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 5 }), fc.nat({ max: 12 })])(
    'a decision through the caches equals one without them, however many come before it',
    (arms, ids, topK) => {
      const caches: PolicyCaches = { sets: memo(), summaries: memo() };
      for (const id of ids) {
        expect(recommend(input(copy(arms), id, topK), cfg, caches)).toEqual(recommend(input(arms, id, topK), cfg));
      }
    },
  );

  test.prop([armSet])('repeated Recommends over unchanged evidence reuse the candidate set', (arms) => {
    const sets = memo<never>();
    const caches = { sets, summaries: memo() } as PolicyCaches;
    recommend(input(arms, 'a'), cfg, caches);
    recommend(input(copy(arms), 'b'), cfg, caches);
    expect(sets.hits).toBe(1);
  });

  test.prop([armSet, fc.nat(), fc.constantFrom('global', 'taskClass', 'repoTaskClass' as const), fc.constantFrom('reward', 'trials', 'stamp' as const)])(
    'the key changes with any evidence value of any candidate',
    (arms, pick, level, field) => {
      const changed = copy(arms);
      const arm = changed[pick % changed.length]!;
      const e = arm.evidence[level]!;
      (arm.evidence as unknown as Record<string, unknown>)[level] = { ...e, [field]: e[field] + 0.5 };
      expect(candidateSetKey(changed, cfg, 0)).not.toBe(candidateSetKey(arms, cfg, 0));
      expect(candidateSetKey(copy(arms), cfg, 0)).toBe(candidateSetKey(arms, cfg, 0));
    },
  );

  test.prop([armSet.filter((a) => a.length >= 2)])('the key depends on candidate order, parents and policy', (arms) => {
    const key = candidateSetKey(arms, cfg, 0);
    expect(candidateSetKey([...arms].reverse(), cfg, 0)).not.toBe(key);
    const withParent = copy(arms);
    withParent[0] = { ...withParent[0]!, parent: { ...arms[1]!, armId: asArmId('parent@v1') } };
    expect(candidateSetKey(withParent, cfg, 0)).not.toBe(key);
    expect(candidateSetKey(arms, { ...cfg, partialReward: 0.25 }, 0)).not.toBe(key);
  });

  test.prop([armSet])('the decision time enters the key only under day-based decay', (arms) => {
    expect(candidateSetKey(arms, cfg, 1)).toBe(candidateSetKey(arms, cfg, 2));
    const days = { ...cfg, decay: { halfLife: 30, unit: 'days' as const } };
    expect(candidateSetKey(arms, days, 1)).not.toBe(candidateSetKey(arms, days, 2));
    const runs = { ...cfg, decay: { halfLife: 30, unit: 'runs' as const } };
    expect(candidateSetKey(arms, runs, 1)).toBe(candidateSetKey(arms, runs, 2));
  });
});
