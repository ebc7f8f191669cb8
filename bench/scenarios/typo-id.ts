/**
 * Scenario typo-id, through the service itself (not the lift simulator): three registered templates
 * serve Recommends without a candidate list; once, a caller names a typo'd id (`stdv1` for `std@v1`)
 * in a candidate list, and an Observe names it with a run that passed (both of issue 9's cases). Measured: how often later Recommends without a
 * candidate list pick the typo (issue 9: it must be never), and what the answer said about it.
 * Usage: node dist/bench/scenarios/typo-id.js [--seeds N] [--steps T] [--json OUT]
 */
import { writeFileSync } from 'node:fs';
import { createRng, DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, policyVersion } from '../../src/bandit/index.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const TEMPLATES: Readonly<Record<string, number>> = { 'std@v1': 0.6, 'verbose@v1': 0.5, 'terse@v1': 0.3 };
const TYPO = 'stdv1';
/** The step at which the typo is named. */
const NAMED_AT = 20;

export interface TypoResult {
  readonly scenario: 'typo-id';
  readonly policyVersion: string;
  readonly seeds: number;
  readonly steps: number;
  /** Recommends without a candidate list after the typo was named, over all seeds, and how many picked it. */
  readonly unnamedRecommends: number;
  readonly typoPicks: number;
  /** Seeds whose answer to the naming call listed the typo as new, and the typo's status afterwards. */
  readonly reportedNew: number;
  readonly typoStatus: string;
  /** The typo's propensity in the naming call (mean over seeds): it was a candidate there. */
  readonly namedPropensity: number;
}

export async function runTypoScenario(seeds: number, steps: number): Promise<TypoResult> {
  let unnamedRecommends = 0;
  let typoPicks = 0;
  let reportedNew = 0;
  let namedPropensity = 0;
  let typoStatus = '';
  for (let seed = 1; seed <= seeds; seed++) {
    const rng = createRng(`typo-id\u0000${seed}`);
    const store = await MemoryStore.open({ policy: DEFAULT_POLICY_CONFIG });
    let clock = Date.parse('2026-03-01T00:00:00Z');
    const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => clock, newDecisionId: () => `d${seed}-${clock}` });
    for (const id of Object.keys(TEMPLATES)) await ll.registerTemplate({ templateId: id, parentTemplateId: '', status: 'active', description: '' });
    for (let step = 0; step < steps; step++) {
      clock += 60_000;
      const named = step === NAMED_AT;
      const d = await ll.recommend({ taskClass: '', repo: '', candidateTemplateIds: named ? ['std@v1', TYPO, 'verbose@v1'] : [], topK: 0, requestId: '' });
      if (named) {
        if (d.newTemplateIds.includes(TYPO)) reportedNew++;
        namedPropensity += d.decision.ranking.find((r) => r.armId === TYPO)!.propensity / seeds;
      } else if (step > NAMED_AT) {
        unnamedRecommends++;
        if (d.decision.chosen === TYPO) typoPicks++;
      }
      const run = (runId: string, decisionId: string, templateId: string, pass: boolean) =>
        ll.observe({
          runId,
          decisionId,
          templateId,
          taskClass: '',
          repo: '',
          taskId: '',
          attempt: 1,
          outcome: pass ? 'pass' : 'fail',
          retries: 0,
          durationSeconds: 60,
          failureReason: '',
          finishedAtMs: clock,
          agent: '',
          model: '',
        });
      await run(`r${step}`, d.decision.decisionId, d.decision.chosen, rng.next() < (TEMPLATES[d.decision.chosen] ?? 0));
      // The typo's one run passes (the worst case: its record looks perfect).
      if (named) await run(`typo${step}`, '', TYPO, true);
    }
    typoStatus = (await ll.listTemplates()).find((t) => t.templateId === TYPO)?.status ?? 'absent';
    await store.close();
  }
  return { scenario: 'typo-id', policyVersion: policyVersion(DEFAULT_POLICY_CONFIG), seeds, steps, unnamedRecommends, typoPicks, reportedNew, typoStatus, namedPropensity };
}

async function main(argv: readonly string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const r = await runTypoScenario(Number(arg('--seeds') ?? 20), Number(arg('--steps') ?? 300));
  const out = arg('--json');
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
