/**
 * The dashboard's fixture log: the reports' fixture (imported run records, lineage, refinement
 * items) plus 240 Recommend decisions over six weeks with their observed outcomes, so traffic,
 * P(best) and the lift have something to show. Everything is seeded: the same log every time.
 */
import { createRng, DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { AS_OF, fixtureLog } from '../reports/fixture-log.js';

/** Decisions start here (a Monday) and come every 4 hours and a bit. */
export const DECISIONS_FROM = Date.parse('2026-01-19T00:00:00Z');
export const DECISIONS = 240;
const STEP_MS = Math.floor((AS_OF - DECISIONS_FROM) / DECISIONS);
/** True pass probability per template in the simulated runs behind the decisions. */
export const TRUE_RATE: Readonly<Record<string, number>> = { 'bug-fix@v1': 0.3, 'bug-fix@v2': 0.75, custom: 0.35, 'docs@v1': 0.6, 'feature@v1': 0.5 };
const CLASSES = ['bug-fix', 'docs', 'feature'];

export { AS_OF };

export async function dashboardFixture(dir: string) {
  const log = await fixtureLog(dir);
  let t = DECISIONS_FROM;
  let n = 0;
  const ll = new LearnLoop({ store: log.store, limits: DEFAULT_LIMITS, now: () => t, newDecisionId: () => `dec-${String(++n).padStart(4, '0')}` });
  const rng = createRng('dashboard-fixture');
  for (let i = 0; i < DECISIONS; i++) {
    t = DECISIONS_FROM + i * STEP_MS;
    const taskClass = CLASSES[i % CLASSES.length]!;
    const d = await ll.recommend({ taskClass, repo: 'org/api', candidateTemplateIds: Object.keys(TRUE_RATE), topK: 0, requestId: '' });
    const chosen = d.decision.chosen;
    const pass = rng.next() < TRUE_RATE[chosen]!;
    // The run finishes ten minutes later, and is reported then.
    t += 600_000;
    await ll.observe({
      runId: `sim-${i}`,
      decisionId: d.decision.decisionId,
      templateId: chosen,
      taskClass,
      repo: 'org/api',
      taskId: `sim-task-${i}`,
      attempt: 1,
      outcome: pass ? 'pass' : 'fail',
      retries: 0,
      durationSeconds: 300,
      failureReason: pass ? '' : 'npm test failed: 3 failing tests',
      finishedAtMs: t,
      agent: 'claude',
      model: 'sonnet',
    });
  }
  return log;
}
