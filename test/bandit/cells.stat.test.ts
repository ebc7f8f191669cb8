import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { calibrated, Coverage, createRng, feed, intervals, logistic, sampleNormal, service } from './hierarchy-world.js';

/**
 * Issue 8's rows for cells with their own runs: "dense cell, 30 own runs per template", "cell whose runs
 * were allocated by the policy itself (300 runs over 5 templates; templates with < 20 runs)" and "one
 * sparse template (0/3/10 runs) in an established class". Truths: template logits ~ N(0, 0.7²) in the
 * class, repositories differ by a logit sd of 0.5; 5 established repositories with 30 runs per template.
 */
const TEMPLATES = ['a@v1', 'b@v1', 'c@v1', 'd@v1', 'e@v1'];
const SD = 0.5;

async function established(policy: PolicyConfig, seed: string) {
  const rng = createRng(seed);
  const ll = service({ ...policy, summarySamples: 200 });
  const centre = TEMPLATES.map(() => 0.7 * sampleNormal(rng));
  for (let r = 0; r < 5; r++) {
    for (let i = 0; i < TEMPLATES.length; i++) await feed(ll, rng, TEMPLATES[i]!, 'bug', `old${r}`, logistic(centre[i]! + SD * sampleNormal(rng)), 30);
  }
  return { rng, ll, centre };
}

async function cellCoverage(reps: number, policy: PolicyConfig) {
  const dense = new Coverage();
  const allocated = new Coverage();
  const allocatedSparse = new Coverage();
  for (let rep = 0; rep < reps; rep++) {
    const { rng, ll, centre } = await established(policy, `cells\u0000${rep}`);
    // A dense cell: 30 own runs per template.
    const denseTruth = centre.map((c) => logistic(c + SD * sampleNormal(rng)));
    for (let i = 0; i < TEMPLATES.length; i++) await feed(ll, rng, TEMPLATES[i]!, 'bug', 'dense', denseTruth[i]!, 30);
    const denseGot = await intervals(ll, 'bug', 'dense', TEMPLATES);
    dense.add(TEMPLATES.filter((id, i) => covers(denseGot.get(id)!.posterior, denseTruth[i]!)).length, TEMPLATES.length);
    // A cell whose 300 runs the policy allocated through Recommend.
    const truth = centre.map((c) => logistic(c + SD * sampleNormal(rng)));
    const runs = TEMPLATES.map(() => 0);
    for (let t = 0; t < 300; t++) {
      const reply = await ll.recommend({ taskClass: 'bug', repo: 'live', candidateTemplateIds: TEMPLATES, topK: 1, requestId: '' });
      const i = TEMPLATES.indexOf(reply.decision.chosen);
      runs[i]!++;
      await feed(ll, rng, TEMPLATES[i]!, 'bug', 'live', truth[i]!, 1);
    }
    const got = await intervals(ll, 'bug', 'live', TEMPLATES);
    allocated.add(TEMPLATES.filter((id, i) => covers(got.get(id)!.posterior, truth[i]!)).length, TEMPLATES.length);
    const sparse = TEMPLATES.map((_, i) => i).filter((i) => runs[i]! < 20);
    if (sparse.length > 0) allocatedSparse.add(sparse.filter((i) => covers(got.get(TEMPLATES[i]!)!.posterior, truth[i]!)).length, sparse.length);
  }
  return { dense, allocated, allocatedSparse };
}

const covers = (p: { ciLow: number; ciHigh: number }, truth: number) => p.ciLow <= truth && truth <= p.ciHigh;

describe('cells with their own runs', () => {
  test('dense cell (30 own runs) and a cell allocated by the policy (300 runs, 5 templates): 95% intervals cover 93–97% (within 2 SE)', async () => {
    const { dense, allocated, allocatedSparse } = await cellCoverage(20, DEFAULT_POLICY_CONFIG);
    const text = `dense 30 runs: ${dense}; policy-allocated: ${allocated}; of those with < 20 runs: ${allocatedSparse}`;
    console.info(text);
    expect(calibrated(dense), text).toBe(true);
    expect(calibrated(allocated), text).toBe(true);
    expect(calibrated(allocatedSparse), text).toBe(true);
  }, 180_000);
});

/** One sparse template with 0, 3 or 10 runs (all in one established repository) among 5 established ones. */
async function sparseCoverage(reps: number, policy: PolicyConfig): Promise<Coverage[]> {
  const own = [0, 3, 10];
  const coverage = own.map(() => new Coverage());
  for (let rep = 0; rep < reps; rep++) {
    const { rng, ll } = await established(policy, `sparse\u0000${rep}`);
    for (let m = 0; m < own.length; m++) {
      let hits = 0;
      for (let x = 0; x < 4; x++) {
        const id = `sparse${own[m]}-${x}@v1`;
        const repo = `old${x}`;
        const truth = logistic(0.7 * sampleNormal(rng) + SD * sampleNormal(rng));
        await feed(ll, rng, id, 'bug', repo, truth, own[m]!);
        const got = await intervals(ll, 'bug', repo, [...TEMPLATES, id]);
        if (covers(got.get(id)!.posterior, truth)) hits++;
      }
      coverage[m]!.add(hits, 4);
    }
  }
  return coverage;
}

describe('one sparse template in an established class', () => {
  test('with 0, 3 and 10 runs its 95% interval covers 93–97% (within 2 SE)', async () => {
    const coverage = await sparseCoverage(40, DEFAULT_POLICY_CONFIG);
    const text = [0, 3, 10].map((n, i) => `${n} runs: ${coverage[i]}`).join('; ');
    console.info(`sparse template: ${text}`);
    for (const c of coverage) expect(calibrated(c), text).toBe(true);
  }, 180_000);
});
