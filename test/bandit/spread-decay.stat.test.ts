import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { EMPTY_GROUP_SUMS, EMPTY_PARENT_RATE_SUMS, groupLogLikelihood, replaceGroup, spreadPosterior, spreadSummary } from '../../src/bandit/spread.js';
import { createRng, logistic, MemoryStore, sampleNormal, service } from './hierarchy-world.js';

/**
 * The learned spread between repositories under decay. The projection re-adds a repository to its task
 * class's spread sums only when that repository runs; every other repository's term stays as of its last
 * run while decay moves on. Each world: 4 templates (class logits ~ N(0, 0.7²)) in 6 repositories whose
 * logits differ from the class by sd 0.5; 240 runs per template, each in a random repository ('active'), or
 * in repositories 0–2 for the first half and 3–5 for the second ('idle': half the repositories have not run
 * for 2.4 half-lives). Everything through Observe on a memory store; run-based decay, half-life 50 runs.
 */
const TEMPLATES = ['a@v1', 'b@v1', 'c@v1', 'd@v1'];
const REPOS = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
const decayed = (base: PolicyConfig, halfLife = 50): PolicyConfig => ({ ...base, decay: { halfLife, unit: 'runs' } });
const { groupSpreadCounts: _, ...countsAsRuns } = DEFAULT_POLICY_CONFIG;

interface World {
  /** The task class's repository spread as the store keeps it, summed over the templates. */
  readonly stored: number[];
  /** The same recomputed from every repository's record as read now. */
  readonly exact: number[];
}

async function world(policy: PolicyConfig, seed: number, idle: boolean): Promise<World> {
  const rng = createRng(`spread-decay\u0000${seed}\u0000${idle}`);
  const store = new MemoryStore(policy);
  const ll = service(policy, store);
  const centre = TEMPLATES.map(() => 0.7 * sampleNormal(rng));
  const rate = centre.map((c) => REPOS.map(() => logistic(c + 0.5 * sampleNormal(rng))));
  let n = 0;
  for (let r = 0; r < 240; r++) {
    for (let i = 0; i < TEMPLATES.length; i++) {
      const pool = idle ? (r < 120 ? [0, 1, 2] : [3, 4, 5]) : [0, 1, 2, 3, 4, 5];
      const j = pool[Math.floor(rng.next() * pool.length)]!;
      await ll.observe({
        runId: `s${seed}-${n++}`, decisionId: '', templateId: TEMPLATES[i]!, taskClass: 'bug', repo: REPOS[j]!, taskId: '', attempt: 1,
        outcome: rng.next() < rate[i]![j]! ? 'pass' : 'fail', retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: 1_800_000_000_000 + n, agent: '', model: '',
      });
    }
  }
  const stored = new Array<number>(32).fill(0);
  const exact = new Array<number>(32).fill(0);
  const arms = await store.armEvidence(TEMPLATES, { taskClass: 'bug', repo: 'new' });
  for (const [i, id] of TEMPLATES.entries()) {
    arms[i]!.evidence.spread!.repo.forEach((x, j) => (stored[j]! += x));
    let sums = policy.groupSpreadVariance === 'parent-rate' ? EMPTY_PARENT_RATE_SUMS : EMPTY_GROUP_SUMS;
    for (const repo of REPOS) {
      const [cell] = await store.armEvidence([id], { taskClass: 'bug', repo });
      sums = replaceGroup(sums, undefined, cell!.evidence.repoTaskClass!, policy.groupSpreadCounts === 'effective');
    }
    // Policy /9 reads each repository's sampling variance at the task class's rate, as read now.
    groupLogLikelihood(sums, arms[i]!.evidence.taskClass).forEach((x, j) => (exact[j]! += x));
  }
  return { stored, exact };
}

const tau = (ll: readonly number[]) => spreadSummary(spreadPosterior(ll)).mean;
const WORLDS = 16;
const meanTau = async (policy: PolicyConfig) => {
  let total = 0;
  for (let w = 0; w < WORLDS; w++) total += tau((await world(policy, w, false)).stored);
  return total / WORLDS;
};

describe('the spread between repositories under decay', () => {
  test('the sums kept by the projection are exact: they equal a recomputation from every repository read now, idle ones included', async () => {
    for (const idle of [false, true]) {
      for (let w = 0; w < 4; w++) {
        const { stored, exact } = await world(decayed(DEFAULT_POLICY_CONFIG), w, idle);
        stored.forEach((x, j) => expect(Math.abs(x - exact[j]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(exact[j]!))));
      }
    }
  }, 180_000);

  test('reading decayed Σw as runs (policy ≤ /6) is not exact once repositories idle: the test can tell', async () => {
    const { stored, exact } = await world(decayed(countsAsRuns), 0, true);
    expect(Math.max(...stored.map((x, j) => Math.abs(x - exact[j]!)))).toBeGreaterThan(0.1);
  }, 180_000);

  // 16 worlds of 24 repository deviations: the mean of the posterior means of τ has a standard error of
  // about 0.03 (their spread across worlds was 0.1); the two settings share the worlds' draws.
  const withoutDecay = meanTau(decayed(DEFAULT_POLICY_CONFIG, 1e12));
  test('decay does not change the learned spread: its posterior mean is within 0.1 of the one learned without decay', async () => {
    const [now, reference] = await Promise.all([meanTau(decayed(DEFAULT_POLICY_CONFIG)), withoutDecay]);
    console.info(`mean posterior mean of the repository sd (true 0.5): ${now.toFixed(3)} under decay, ${reference.toFixed(3)} without`);
    expect(Math.abs(now - reference)).toBeLessThan(0.1);
  }, 180_000);

  test('reading decayed Σw as runs (policy ≤ /6) learns about half the spread: the test can tell', async () => {
    const [now, reference] = await Promise.all([meanTau(decayed(countsAsRuns)), withoutDecay]);
    console.info(`policy /6 counts: ${now.toFixed(3)} under decay, ${reference.toFixed(3)} without`);
    expect(reference - now).toBeGreaterThan(0.15);
  }, 180_000);
});
