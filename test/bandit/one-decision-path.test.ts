import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { asDecisionId, choose, DEFAULT_POLICY_CONFIG, recommend, rngForDecision } from '../../src/bandit/index.js';
import { armSet } from '../helpers/arbitraries.js';

const cfg = { ...DEFAULT_POLICY_CONFIG, summarySamples: 400 };

// The benchmark decides through choose(); the service through recommend(). They must be one rule:
// given the same evidence and the same 'pick' stream, the same template.
test.prop([armSet, fc.string({ minLength: 1, maxLength: 12 })], { numRuns: 60 })('recommend() picks what choose() picks', (arms, id) => {
  const d = recommend({ decisionId: asDecisionId(id), context: { taskClass: 'bug-fix', repo: 'org/app' }, arms, nowMs: 0, topK: 0 }, cfg);
  const c = choose(arms, cfg, 0, rngForDecision(asDecisionId(id), 'pick'));
  expect(d.chosen).toBe(arms[c.index]!.armId);
});
