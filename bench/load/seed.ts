import type { ObserveContent } from '../../src/bandit/index.js';
import { createRng } from '../../src/bandit/rng.js';
import { loadConfig } from '../../src/config.js';
import { observePlan, registerPlan } from '../../src/service/rules.js';
import { openStore } from '../../src/compose.js';

export interface SeedRun {
  readonly templateId: string;
  readonly taskClass: string;
  readonly repo: string;
}

/** A run as the benchmarks post it: a minute long, first attempt, no retries. */
export const benchRun = (runId: string, r: SeedRun, outcome: 'pass' | 'fail'): ObserveContent => ({
  runId,
  decisionId: '',
  templateId: r.templateId,
  taskClass: r.taskClass,
  repo: r.repo,
  taskId: '',
  attempt: 1,
  outcome,
  retries: 0,
  durationSeconds: 60,
  failureReason: '',
  finishedAtMs: undefined,
  agent: '',
  model: '',
});

/**
 * Writes observations straight into a store (an LMDB folder or a PostgreSQL URL) through the port (the same transaction and
 * derived updates as Observe, without the reply's posterior), before any server opens it.
 * noSync: seeding is set-up, not the thing measured.
 * Each template is registered active when first seen; outcomes are seeded draws from a
 * per-template pass rate, so posteriors are warm and distinct.
 * @returns events in the log afterwards
 */
export async function seedObservations(db: string, count: number, runAt: (i: number) => SeedRun, seed = 'bench'): Promise<number> {
  const config = loadConfig({}, { db });
  const store = await openStore(db, { policy: config.policy, noSync: true });
  const rng = createRng(seed);
  const passRate = new Map<string, number>();
  try {
    let batch: Array<Promise<unknown>> = [];
    for (let i = 0; i < count; i++) {
      const r = runAt(i);
      const atMs = 1_700_000_000_000 + i;
      let p = passRate.get(r.templateId);
      if (p === undefined) {
        passRate.set(r.templateId, (p = 0.3 + 0.5 * rng.next()));
        // Registered active, as a team's templates are (an id first seen in Observe would be a candidate).
        await store.commit(atMs, registerPlan({ templateId: r.templateId, parentTemplateId: '', status: 'active', description: '', actor: '' }, atMs));
      }
      batch.push(
        store.commit(
          atMs,
          observePlan(benchRun(`seed-${i}`, r, rng.next() < p ? 'pass' : 'fail'), atMs),
        ),
      );
      // Observations in flight together share one commit: keeps seeding of a million events fast.
      if (batch.length >= 2000) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
    return await store.head();
  } finally {
    await store.close();
  }
}
