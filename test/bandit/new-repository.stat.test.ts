import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { calibrated, Coverage, createRng, feed, intervals, logistic, sampleNormal, service } from './hierarchy-world.js';

/**
 * Issue 8's rows "new repository, 0 own runs, rates differ from the class by a logit sd of 0.5 / 1.0"
 * and "the same with 3 / 10 / 30 own runs". Each replication draws a task class of 4 templates (class
 * logits ~ N(0, 0.7²)), 6 established repositories with 40 runs per template (repository logits = class
 * logit + sd·N(0, 1)), then 3 new repositories for each own-run count, all fed run by run through
 * Observe; Recommend in each new repository gives every template's 95% interval, checked against the
 * template's true rate there.
 */
const TEMPLATES = ['a@v1', 'b@v1', 'c@v1', 'd@v1'];
const ESTABLISHED = 6;
const RUNS = 40;
const OWN = [0, 3, 10, 30] as const;
const NEW_REPOS = 3;

async function newRepositoryCoverage(sd: number, reps: number, policy: PolicyConfig, own: readonly number[] = OWN): Promise<Coverage[]> {
  const coverage = own.map(() => new Coverage());
  for (let rep = 0; rep < reps; rep++) {
    const rng = createRng(`new-repository\u0000${sd}\u0000${rep}`);
    const ll = service({ ...policy, summarySamples: 200 });
    const centre = TEMPLATES.map(() => 0.7 * sampleNormal(rng));
    for (let r = 0; r < ESTABLISHED; r++) {
      for (let i = 0; i < TEMPLATES.length; i++) await feed(ll, rng, TEMPLATES[i]!, 'bug', `old${r}`, logistic(centre[i]! + sd * sampleNormal(rng)), RUNS);
    }
    for (let m = 0; m < own.length; m++) {
      let hits = 0;
      for (let x = 0; x < NEW_REPOS; x++) {
        const repo = `new${own[m]}-${x}`;
        const truth = centre.map((c) => logistic(c + sd * sampleNormal(rng)));
        for (let i = 0; i < TEMPLATES.length; i++) await feed(ll, rng, TEMPLATES[i]!, 'bug', repo, truth[i]!, own[m]!);
        const got = await intervals(ll, 'bug', repo, TEMPLATES);
        TEMPLATES.forEach((id, i) => {
          const p = got.get(id)!.posterior;
          if (p.ciLow <= truth[i]! && truth[i]! <= p.ciHigh) hits++;
        });
      }
      coverage[m]!.add(hits, NEW_REPOS * TEMPLATES.length);
    }
  }
  return coverage;
}

describe('a new repository gets the predictive of a new repository (spread learned from 6 established ones)', () => {
  for (const sd of [0.5, 1.0]) {
    test(`repository logit sd ${sd}: 95% intervals cover 93–97% (within 2 SE) with 0, 3, 10 and 30 own runs`, async () => {
      const coverage = await newRepositoryCoverage(sd, 24, DEFAULT_POLICY_CONFIG);
      const text = OWN.map((n, i) => `${n} runs: ${coverage[i]}`).join('; ');
      console.info(`new repository, sd ${sd}: ${text}`);
      for (const c of coverage) expect(calibrated(c), text).toBe(true);
    }, 180_000);
  }

  test('policy /4 (strength fitted from this context only) fails the same check: the test can tell', async () => {
    const { groupSpread: _, ...v4 } = DEFAULT_POLICY_CONFIG;
    const [zero] = await newRepositoryCoverage(1.0, 6, v4, [0]);
    console.info(`new repository, sd 1, policy /4: 0 runs: ${zero}`);
    expect(calibrated(zero!), String(zero)).toBe(false);
  }, 180_000);
});
