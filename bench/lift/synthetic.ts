/**
 * Synthetic full-information outcome tables, to check that conclusions drawn on SWE-bench hold on
 * data shaped differently. System skill ~ Beta(a, b) on the pass-rate scale; a task-difficulty
 * effect and a per-(system, repository) effect act on the logit scale.
 * Usage: node dist/bench/lift/synthetic.js OUT.csv SYSTEMS TASKS A B REPO_SD SEED
 */
import { writeFileSync } from 'node:fs';
import { createRng, sampleBeta, sampleNormal } from '../../src/bandit/index.js';

export interface SyntheticSpec {
  readonly systems: number;
  readonly tasks: number;
  /** Beta(a, b) of the systems' pass rates on an average task. */
  readonly a: number;
  readonly b: number;
  /** Standard deviation of the per-(system, repository) logit effect: 0 = the repository carries no signal. */
  readonly repoSd: number;
  readonly repos?: number;
  readonly seed: string;
}

export function syntheticCsv(spec: SyntheticSpec): string {
  const rng = createRng(`synthetic\u0000${spec.seed}`);
  const nRepos = spec.repos ?? 6;
  const tasks = Array.from({ length: spec.tasks }, (_, t) => ({
    id: `t${t}`,
    repo: `org/r${Math.floor(rng.next() * nRepos)}`,
    difficulty: rng.next() < 0.5 ? 'easy' : 'hard',
    shift: sampleNormal(rng),
  }));
  const rows = ['system,date,instance_id,repo,difficulty,resolved'];
  for (let s = 0; s < spec.systems; s++) {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, sampleBeta(rng, spec.a, spec.b)));
    const logit = Math.log(p / (1 - p));
    const repoEffect = Array.from({ length: nRepos }, () => spec.repoSd * sampleNormal(rng));
    for (const t of tasks) {
      const z = logit + repoEffect[Number(t.repo.slice(5))]! - t.shift;
      const q = 1 / (1 + Math.exp(-z));
      rows.push(`sys${s},20250101,${t.id},${t.repo},${t.difficulty},${rng.next() < q ? 1 : 0}`);
    }
  }
  return rows.join('\n') + '\n';
}

if (process.argv[1]?.endsWith('synthetic.js')) {
  const [out, systems, tasks, a, b, repoSd, seed] = process.argv.slice(2);
  if (seed === undefined) {
    process.stderr.write('usage: node dist/bench/lift/synthetic.js OUT.csv SYSTEMS TASKS A B REPO_SD SEED\n');
    process.exit(2);
  }
  writeFileSync(out!, syntheticCsv({ systems: Number(systems), tasks: Number(tasks), a: Number(a), b: Number(b), repoSd: Number(repoSd), seed }));
}
