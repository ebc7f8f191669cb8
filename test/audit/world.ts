import { asArmId, createRng, DEFAULT_POLICY_CONFIG, sampleBeta, type Outcome, type PolicyConfig, type Rng } from '../../src/bandit/index.js';
import { MemoryStore, service, Coverage } from '../bandit/hierarchy-world.js';
import type { Store } from '../../src/store/port.js';
export { createRng, sampleBeta, DEFAULT_POLICY_CONFIG, MemoryStore, service, Coverage };
let n = 0;
/** passes / partials / fails of one template in one cell, through the store's projection. */
export async function feedOutcomes(store: Store, templateId: string, taskClass: string, repo: string, passes: number, partials: number, fails: number) {
  const total = passes + partials + fails;
  if (total === 0) return;
  const events = Array.from({ length: total }, (_u, i) => {
    const outcome = (i < passes ? 'pass' : i < passes + partials ? 'partial' : 'fail') as Outcome;
    const content = { runId: `x${n++}`, decisionId: '', templateId, taskClass, repo, taskId: '', attempt: 1, outcome, retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: 1_800_000_000_000, agent: '', model: '' };
    const { templateId: _a, taskClass: _b, repo: _c, ...facts } = content;
    return { type: 'observation' as const, content, observation: { ...facts, armId: asArmId(templateId), context: { taskClass, repo } } };
  });
  await store.commit(1_800_000_000_000, async () => ({ events, result: undefined }));
}
export function binom(rng: Rng, n: number, p: number) { let k = 0; for (let i = 0; i < n; i++) if (rng.next() < p) k++; return k; }
export const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
export const se = (xs: readonly number[]) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length);
export function deciles(pairs: ReadonlyArray<[number, number]>) {
  return Array.from({ length: 10 }, (_, d) => {
    const inBin = pairs.filter(([p]) => Math.min(9, Math.floor(p * 10)) === d);
    const k = inBin.length;
    const reported = inBin.reduce((s, [p]) => s + p, 0) / k;
    const observed = inBin.reduce((s, [, y]) => s + y, 0) / k;
    return { d, n: k, reported, observed, se: Math.sqrt((reported * (1 - reported)) / k) };
  }).filter((x) => x.n > 0);
}
export function decileText(pairs: ReadonlyArray<[number, number]>) {
  return deciles(pairs).map((x) => `${x.d}: ${x.reported.toFixed(3)} vs ${x.observed.toFixed(3)}±${x.se.toFixed(3)} (n ${x.n})${x.n >= 30 && Math.abs(x.observed - x.reported) - 2 * x.se > 0.05 ? ' **OFF**' : ''}`).join('; ');
}
export type { PolicyConfig, Rng };
