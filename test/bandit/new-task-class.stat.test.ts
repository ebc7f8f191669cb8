import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { calibrated, Coverage, createRng, feed, feedCounts, intervals, logistic, MemoryStore, sampleNormal, service } from './hierarchy-world.js';

/**
 * Issue 8's row "new task class, 0 runs (class sd 0.4 / 0.8 logit)", and "when groups do not differ,
 * a new group borrows nearly everything". Each replication draws 4 templates (global logits
 * ~ N(0, 0.7²)) and 6 established task classes, each seen in its own repository with 40 runs per
 * template (class logit = global logit + sd·N(0, 1)), written through the store's projection; then 4 new task
 * classes with no runs, where
 * Recommend's 95% intervals are checked against each template's true rate in that class.
 */
const TEMPLATES = ['a@v1', 'b@v1', 'c@v1', 'd@v1'];

async function newClassCoverage(sd: number, reps: number, policy: PolicyConfig): Promise<Coverage> {
  const coverage = new Coverage();
  for (let rep = 0; rep < reps; rep++) {
    const rng = createRng(`new-task-class\u0000${sd}\u0000${rep}`);
    const config = { ...policy, summarySamples: 200 };
    const store = new MemoryStore(config);
    const ll = service(config, store);
    const centre = TEMPLATES.map(() => 0.7 * sampleNormal(rng));
    for (let c = 0; c < 6; c++) {
      for (let i = 0; i < TEMPLATES.length; i++) {
        // 40 runs in one commit through the store's projection (what Observe runs; no decay, so order does not matter).
        const p = logistic(centre[i]! + sd * sampleNormal(rng));
        let passes = 0;
        for (let r = 0; r < 40; r++) passes += rng.next() < p ? 1 : 0;
        await feedCounts(store, TEMPLATES[i]!, `class${c}`, `repo${c}`, passes, 40 - passes);
      }
    }
    let hits = 0;
    for (let x = 0; x < 4; x++) {
      const truth = centre.map((c) => logistic(c + sd * sampleNormal(rng)));
      const got = await intervals(ll, `new${x}`, `new-repo${x}`, TEMPLATES);
      TEMPLATES.forEach((id, i) => {
        const p = got.get(id)!.posterior;
        if (p.ciLow <= truth[i]! && truth[i]! <= p.ciHigh) hits++;
      });
    }
    coverage.add(hits, 4 * TEMPLATES.length);
  }
  return coverage;
}

describe('a new task class gets the predictive of a new task class (spread learned from 6 established ones)', () => {
  // At sd 0.4 policy /8 covered 90.7% ± 1.1 over 120 replications (91.0% ± 1.9 over 30, which could not tell it
  // from 93%); /9 93.8% ± 0.9 (docs/adr/0008-spread-at-the-parent-rate.md).
  for (const [sd, reps] of [[0.4, 120], [0.8, 30]] as const) {
    test(`class logit sd ${sd}: 95% intervals cover 93–97% (within 2 SE) with 0 runs`, async () => {
      const coverage = await newClassCoverage(sd, reps, DEFAULT_POLICY_CONFIG);
      console.info(`new task class, sd ${sd}: ${coverage}`);
      expect(calibrated(coverage), String(coverage)).toBe(true);
    }, 180_000);
  }

  test('policy /4 fails the same check: the test can tell', async () => {
    const { groupSpread: _, ...v4 } = DEFAULT_POLICY_CONFIG;
    const coverage = await newClassCoverage(0.8, 8, v4);
    console.info(`new task class, sd 0.8, policy /4: ${coverage}`);
    expect(calibrated(coverage), String(coverage)).toBe(false);
  }, 180_000);
});

/**
 * When repositories do not differ, a new repository borrows nearly everything: 8 established repositories
 * of one class with 100 runs per template and the same rates everywhere. Its interval cannot be as narrow
 * as the class's own (that one is about the class's average; 8 groups of 100 runs cannot rule out a logit
 * sd of ~0.2 between repositories, which a new one may have), but it stays within 2× the class's width and under half the width it gets where repositories differ
 * by the smallest sd, 0.5.
 */
async function widths(sd: number, rep: number): Promise<{ repo: number; taskClass: number }> {
  const rng = createRng(`no-difference\u0000${sd}\u0000${rep}`);
  const ll = service({ ...DEFAULT_POLICY_CONFIG, summarySamples: 200 });
  const centre = TEMPLATES.map(() => 0.7 * sampleNormal(rng));
  for (let r = 0; r < 8; r++) {
    for (let i = 0; i < TEMPLATES.length; i++) await feed(ll, rng, TEMPLATES[i]!, 'bug', `repo${r}`, logistic(centre[i]! + sd * sampleNormal(rng)), 100);
  }
  const repo = await intervals(ll, 'bug', 'new-repo', TEMPLATES);
  const taskClass = await intervals(ll, 'bug', '', TEMPLATES);
  const mean = (m: Map<string, { posterior: { ciLow: number; ciHigh: number } }>) => TEMPLATES.reduce((s, id) => s + m.get(id)!.posterior.ciHigh - m.get(id)!.posterior.ciLow, 0) / TEMPLATES.length;
  return { repo: mean(repo), taskClass: mean(taskClass) };
}

describe('when groups do not differ, a new group borrows nearly everything', () => {
  test("a new repository's interval is narrow when repositories do not differ, and wide when they do", async () => {
    // Averaged over 4 worlds: 8 groups' sample spread varies a lot from one world to the next.
    const average = async (sd: number) => {
      const ws = await Promise.all([0, 1, 2, 3].map((rep) => widths(sd, rep)));
      return { repo: ws.reduce((s, w) => s + w.repo, 0) / 4, taskClass: ws.reduce((s, w) => s + w.taskClass, 0) / 4 };
    };
    const same = await average(0);
    const differ = await average(0.5);
    console.info(`95% interval width of a new repository (its class's): ${same.repo.toFixed(3)} (${same.taskClass.toFixed(3)}) with no difference, ${differ.repo.toFixed(3)} (${differ.taskClass.toFixed(3)}) at logit sd 0.5`);
    expect(same.repo).toBeLessThan(2 * same.taskClass);
    expect(same.repo).toBeLessThan(0.5 * differ.repo);
  }, 180_000);
});
