import { describe, expect, test } from 'vitest';
import { asArmId, asDecisionId, choose, createRng, DEFAULT_POLICY_CONFIG, type Context, type EventBody, type Outcome } from '../../src/bandit/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { epsilonGreedy, greedyScore, learnloop, MS_PER_STEP, thompsonFlat, ucb1, uniform, type BenchPolicy, type PolicyFactory } from '../../src/lift/policies.js';

const ctx: Context = { taskClass: '', repo: '' };
const setup = (n: number, seed = 's') => ({ armIds: Array.from({ length: n }, (_, i) => `arm${i}`), parents: Array.from({ length: n }, () => undefined), seed, config: DEFAULT_POLICY_CONFIG });
const all = (n: number) => Array.from({ length: n }, (_, i) => i);
const feed = (p: BenchPolicy, arm: number, outcome: Outcome, step: number, retries = 0) =>
  p.learn(arm, ctx, { reward: outcome === 'pass' ? 1 : outcome === 'partial' ? 0.5 : outcome === 'infra_error' ? null : 0, outcome, retries }, step);

/** Runs a policy on Bernoulli arms; returns how often each arm was picked. */
function play(factory: PolicyFactory, rates: number[], steps: number, seed = 'p'): number[] {
  const p = factory(setup(rates.length, seed));
  const rng = createRng(`env\u0000${seed}`);
  const counts = rates.map(() => 0);
  for (let s = 0; s < steps; s++) {
    const a = p.pick(all(rates.length), ctx, s);
    counts[a]!++;
    feed(p, a, rng.next() < rates[a]! ? 'pass' : 'fail', s);
  }
  return counts;
}

describe('baseline policies', () => {
  test('uniform picks every candidate about equally often (binomial tolerance)', () => {
    const n = 4000;
    const counts = play(uniform, [0.9, 0.1, 0.1, 0.1], n);
    const sd = Math.sqrt(n * 0.25 * 0.75);
    for (const c of counts) expect(Math.abs(c - n / 4)).toBeLessThan(4 * sd);
  });

  test('uniform only picks among the available candidates', () => {
    const p = uniform(setup(5));
    for (let s = 0; s < 200; s++) expect([1, 3]).toContain(p.pick([1, 3], ctx, s));
  });

  test('greedy-score plays every arm to 3 runs, then the best score', () => {
    const p = greedyScore(setup(3));
    const seen = [0, 0, 0];
    for (let s = 0; s < 9; s++) {
      const a = p.pick(all(3), ctx, s);
      seen[a]!++;
      // arm0: 2 of 3 pass; arm1: 3 of 3 pass but every run needed a retry; arm2: 1 of 3.
      const outcome: Outcome = a === 0 ? (seen[0]! <= 2 ? 'pass' : 'fail') : a === 1 ? 'pass' : seen[2]! === 1 ? 'pass' : 'fail';
      feed(p, a, outcome, s, a === 1 ? 1 : 0);
    }
    expect(seen).toEqual([3, 3, 3]);
    // Scores: arm0 2/3 = 0.667; arm1 1 − 0.2 = 0.8; arm2 1/3.
    expect(p.pick(all(3), ctx, 9)).toBe(1);
  });

  test('greedy-score weighs partial (+0.4) and timeout (−0.3) runs', () => {
    const p = greedyScore(setup(2));
    // arm0: 3 partials = 0.4; arm1: 2 passes and a timeout = (2 − 0.3)/3 = 0.567.
    for (let s = 0; s < 3; s++) feed(p, 0, 'partial', s);
    feed(p, 1, 'pass', 3);
    feed(p, 1, 'pass', 4);
    feed(p, 1, 'timeout', 5);
    expect(p.pick(all(2), ctx, 6)).toBe(1);
    // Infra errors teach nothing: arm0 stays scored on its 3 runs.
    feed(p, 0, 'infra_error', 7);
    expect(p.pick(all(2), ctx, 8)).toBe(1);
  });

  test('epsilon-greedy explores about 10% of the time once every arm has a run', () => {
    const p = epsilonGreedy(0.1)(setup(2));
    feed(p, 0, 'pass', 0);
    feed(p, 1, 'fail', 1);
    const n = 5000;
    let worse = 0;
    for (let s = 0; s < n; s++) if (p.pick(all(2), ctx, s) === 1) worse++;
    // Exploration picks the worse arm with probability ε/2 = 0.05.
    const sd = Math.sqrt(n * 0.05 * 0.95);
    expect(Math.abs(worse - 0.05 * n)).toBeLessThan(4 * sd);
  });

  test('ucb1 tries each arm once, then follows mean + sqrt(2 ln n / nᵢ)', () => {
    const p = ucb1(setup(2));
    const first = [p.pick(all(2), ctx, 0)];
    feed(p, first[0]!, first[0] === 0 ? 'pass' : 'fail', 0);
    first.push(p.pick(all(2), ctx, 1));
    expect(new Set(first)).toEqual(new Set([0, 1]));
    feed(p, first[1]!, first[1] === 0 ? 'pass' : 'fail', 1);
    // n = 2: arm0 1 + sqrt(2 ln 2) > arm1 0 + sqrt(2 ln 2).
    expect(p.pick(all(2), ctx, 2)).toBe(0);
    // Ten more failures of arm0: mean 1/11 + sqrt(2 ln 12 / 11) = 0.76 < 0 + sqrt(2 ln 12 / 1) = 2.23.
    for (let s = 0; s < 10; s++) feed(p, 0, 'fail', 3 + s);
    expect(p.pick(all(2), ctx, 13)).toBe(1);
  });

  test('thompson-flat and learnloop concentrate on the better arm', () => {
    for (const f of [thompsonFlat, learnloop]) {
      const counts = play(f, [0.8, 0.3], 600);
      expect(counts[0]! / 600).toBeGreaterThan(0.85);
    }
  });

  test('learnloop decides as Recommend would on the same log: the store\'s evidence (spread sums included) through choose()', async () => {
    const cfg = DEFAULT_POLICY_CONFIG;
    const ids = ['a', 'b', 'c', 'd'];
    const parents = [undefined, undefined, undefined, 0];
    const p = learnloop({ armIds: ids, parents, seed: 'same', config: cfg });
    const store = new MemoryStore(cfg);
    const contexts: Context[] = [
      { taskClass: 'bug', repo: 'org/x' },
      { taskClass: 'bug', repo: 'org/y' },
      { taskClass: 'feat', repo: 'org/x' },
      { taskClass: '', repo: 'org/z' },
    ];
    const body = (templateId: string, parentTemplateId: string): EventBody => ({ type: 'template', templateId, parentTemplateId, status: 'active', description: '', implicit: false, actor: '' });
    await store.commit(0, async () => ({ events: ids.map((id, i) => body(id, parents[i] === undefined ? '' : ids[parents[i]]!)), result: undefined }));
    const env = createRng('env');
    const rates = [0.7, 0.5, 0.4, 0.6];
    for (let step = 0; step < 160; step++) {
      const ctx = contexts[step % contexts.length]!;
      const arm = step % ids.length;
      const outcome: Outcome = env.next() < rates[arm]! - (ctx.repo === 'org/y' ? 0.3 : 0) ? 'pass' : 'fail';
      p.learn(arm, ctx, { reward: outcome === 'pass' ? 1 : 0, outcome, retries: 0 }, step);
      const finishedAtMs = step * MS_PER_STEP;
      const facts = { taskId: `t${step}`, attempt: 1, outcome, retries: 0, durationSeconds: 0, failureReason: '', agent: '', model: '' };
      const observation: EventBody = {
        type: 'observation',
        content: { ...facts, runId: `r${step}`, decisionId: '', templateId: ids[arm]!, taskClass: ctx.taskClass, repo: ctx.repo, finishedAtMs },
        observation: { ...facts, runId: `r${step}`, decisionId: asDecisionId(''), armId: asArmId(ids[arm]!), context: ctx, finishedAtMs },
      };
      await store.commit(finishedAtMs, async () => ({ events: [observation], result: undefined }));
    }
    const rng = createRng('same');
    let s = 160;
    for (const c of contexts) {
      const arms = await store.armEvidence(ids, c);
      if (c.taskClass !== '') expect(arms[0]!.evidence.spread).toBeDefined();
      for (let i = 0; i < 10; i++, s++) expect(p.pick(all(4), c, s)).toBe(choose(arms, cfg, s * MS_PER_STEP, rng).index);
    }
  });
});
