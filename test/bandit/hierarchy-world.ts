/**
 * A generator of worlds with known truths for the hierarchy's statistical tests: templates whose pass
 * rates differ between task classes and repositories by known logit sds, fed run by run through the
 * real service (LearnLoop over a memory store), then asked through Recommend.
 */
import { asArmId, createRng, DEFAULT_LIMITS, sampleNormal, type Outcome, type PolicyConfig, type Rng } from '../../src/bandit/index.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/port.js';

export const logistic = (x: number) => 1 / (1 + Math.exp(-x));
export const logit = (p: number) => Math.log(p / (1 - p));

/** A service over an empty memory store with a fixed clock. */
export function service(policy: PolicyConfig, store: Store = new MemoryStore(policy)): LearnLoop {
  let id = 0;
  return new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => 1_800_000_000_000, newDecisionId: () => `d${id++}` });
}

let runs = 0;
/** Feeds `n` runs of `templateId` in (taskClass, repo) with true pass rate `p` through Observe. */
export async function feed(ll: LearnLoop, rng: Rng, templateId: string, taskClass: string, repo: string, p: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await ll.observe({
      runId: `r${runs++}`, decisionId: '', templateId, taskClass, repo, taskId: '', attempt: 1,
      outcome: rng.next() < p ? 'pass' : 'fail', retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: undefined, agent: '', model: '',
    });
  }
}

/** The ranked posteriors of `templates` in a context, by template id. */
export async function intervals(ll: LearnLoop, taskClass: string, repo: string, templates: readonly string[]) {
  const reply = await ll.recommend({ taskClass, repo, candidateTemplateIds: templates, topK: 0, requestId: '' });
  return new Map(reply.decision.ranking.map((r) => [r.armId as string, r]));
}

/**
 * Coverage over replications, with a standard error from the spread of per-replication coverage
 * (evaluations within one replication share its fitted spread, so they are not independent).
 */
export class Coverage {
  private readonly perRep: number[] = [];
  private hits = 0;
  private total = 0;
  add(hits: number, total: number): void {
    this.perRep.push(hits / total);
    this.hits += hits;
    this.total += total;
  }
  get rate(): number {
    return this.hits / this.total;
  }
  /** How many intervals were checked. */
  get intervals(): number {
    return this.total;
  }
  get se(): number {
    const n = this.perRep.length;
    const mean = this.perRep.reduce((s, x) => s + x, 0) / n;
    const clustered = Math.sqrt(this.perRep.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) / n);
    // Never below the binomial error of the evaluations themselves.
    return Math.max(clustered, Math.sqrt((this.rate * (1 - this.rate)) / this.total));
  }
  toString(): string {
    return `${(100 * this.rate).toFixed(1)}% ± ${(100 * this.se).toFixed(1)} (${this.total} intervals)`;
  }
}

/** "95% intervals cover 93–97% within 2 standard errors". */
export const calibrated = (c: Coverage) => c.rate + 2 * c.se >= 0.93 && c.rate - 2 * c.se <= 0.97;

export { createRng, MemoryStore, sampleNormal };

/**
 * Appends `passes` passing and `fails` failing runs of `templateId` in one commit through the store port
 * (the projection a live Observe runs): for tests that need thousands of worlds.
 */
export async function feedCounts(store: Store, templateId: string, taskClass: string, repo: string, passes: number, fails: number): Promise<void> {
  const events = Array.from({ length: passes + fails }, (_unused, i) => {
    const content = {
      runId: `b${runs++}`, decisionId: '', templateId, taskClass, repo, taskId: '', attempt: 1,
      outcome: (i < passes ? 'pass' : 'fail') as Outcome, retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: 1_800_000_000_000, agent: '', model: '',
    };
    const { templateId: _, taskClass: __, repo: ___, ...facts } = content;
    return { type: 'observation' as const, content, observation: { ...facts, armId: asArmId(templateId), context: { taskClass, repo } } };
  });
  await store.commit(1_800_000_000_000, async () => ({ events, result: undefined }));
}
