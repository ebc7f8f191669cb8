/**
 * What a read costs against the size of the folder (issue 10: reads cost O(what they return)).
 * Seeds two LMDB folders, one with 10 active templates and one with 10,000 (3 runs each, over
 * 4 task classes and 6 repositories), then, in process through the service (no gRPC, so only
 * learnloop's own work is timed), one call at a time, the two folders' calls interleaved:
 *   - Observe (a fresh run_id each, the reply's posterior included), with a durable commit and
 *     without fsync (the CPU the call costs, without the disk's flush time);
 *   - the reply's posterior alone, and as it was computed before (fitted over every active template);
 *   - ListTemplates of the active templates, one page of 100, and all of them.
 *
 *   nice -n 10 npm run bench:reads -- [--json OUT] [--calls 2000]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { candidatePosteriors, summarizePosterior } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import type { LearnLoop } from '../../src/service/learnloop.js';
import { LmdbStore } from '../../src/store/index.js';
import { benchRun, seedObservations } from '../load/seed.js';

const CLASSES = ['bug-fix', 'feature', 'docs', 'refactor'];
const REPOS = ['org/api', 'org/web', 'org/cli', 'org/infra', 'org/mobile', 'org/data'];
const RUNS_PER_TEMPLATE = 3;

interface Timing {
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

function timing(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { calls: s.length, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), meanMs: round(s.reduce((a, b) => a + b, 0) / s.length) };
}
const round = (x: number) => Math.round(x * 1000) / 1000;

const id = (i: number) => `tpl-${String(i).padStart(5, '0')}@v1`;

async function seedFolder(templates: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `ll-bench-reads-${templates}-`));
  await seedObservations(dir, templates * RUNS_PER_TEMPLATE, (i) => ({
    templateId: id(i % templates),
    taskClass: CLASSES[i % CLASSES.length]!,
    repo: REPOS[Math.floor(i / CLASSES.length) % REPOS.length]!,
  }));
  return dir;
}

interface Folder {
  readonly templates: number;
  readonly store: LmdbStore;
  readonly learnloop: LearnLoop;
}

/**
 * Times `call` on every folder, the folders' calls interleaved (one on each in turn), so a machine
 * busy with other work slows them alike and the ratio stays meaningful.
 */
async function interleaved(folders: readonly Folder[], calls: number, call: (f: Folder, i: number) => Promise<unknown>): Promise<Timing[]> {
  for (let i = 0; i < Math.min(100, calls); i++) for (const f of folders) await call(f, -1 - i); // warm-up
  const ms = folders.map((): number[] => []);
  for (let i = 0; i < calls; i++) {
    for (const [k, f] of folders.entries()) {
      const t = process.hrtime.bigint();
      await call(f, i);
      ms[k]!.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return ms.map(timing);
}

async function openFolders(dirs: ReadonlyMap<number, string>, noSync: boolean): Promise<Folder[]> {
  const out: Folder[] = [];
  for (const [templates, dir] of dirs) {
    const config = loadConfig({}, { db: dir });
    const store = await LmdbStore.open(dir, { policy: config.policy, noSync });
    out.push({ templates, store, learnloop: compose(store, config).learnloop });
  }
  return out;
}

let runs = 0;
const observe = (f: Folder, i: number) =>
  f.learnloop.observe(
    benchRun(
      `bench-${process.pid}-${runs++}`,
      { templateId: id(Math.abs(i) % f.templates), taskClass: CLASSES[Math.abs(i) % CLASSES.length]!, repo: REPOS[Math.abs(i) % REPOS.length]! },
      i % 3 === 0 ? 'fail' : 'pass',
    ),
  );

/** The reply's posterior as it was computed before (fitted over every active template), for comparison. */
async function everyActive(f: Folder, i: number) {
  const templateId = id(Math.abs(i) % f.templates);
  const active = (await f.learnloop.listTemplates('active')).map((t) => t.templateId).filter((t) => t !== templateId);
  const context = { taskClass: CLASSES[Math.abs(i) % CLASSES.length]!, repo: REPOS[Math.abs(i) % REPOS.length]! };
  return summarizePosterior(candidatePosteriors(await f.store.armEvidence([templateId, ...active], context), f.store.policy, Date.now())[0]!, f.store.policy.partialReward);
}

const { values } = parseArgs({ options: { json: { type: 'string' }, calls: { type: 'string', default: '2000' } } });
const calls = Number(values.calls);
const started = Date.now();
const sizes = [10, 10_000];
const dirs = new Map<number, string>();
try {
  for (const n of sizes) dirs.set(n, await seedFolder(n));
  const result: Record<string, unknown> = {
    command: `npm run bench:reads -- --calls ${calls}${values.json ? ` --json ${values.json}` : ''}`,
    node: process.version,
    activeTemplates: sizes,
  };
  const table: Record<string, Timing[]> = {};
  for (const noSync of [false, true]) {
    const folders = await openFolders(dirs, noSync);
    try {
      table[noSync ? 'observeNoSync' : 'observeDurable'] = await interleaved(folders, calls, observe);
      if (!noSync) {
        table.replyPosterior = await interleaved(folders, calls, (f, i) => f.learnloop.posterior(id(Math.abs(i) % f.templates), CLASSES[Math.abs(i) % CLASSES.length]!, REPOS[Math.abs(i) % REPOS.length]!));
        table.replyPosteriorOverEveryActive = await interleaved(folders, Math.min(calls, 200), everyActive);
        table.listTemplatesPage100 = await interleaved(folders, calls, (f) => f.learnloop.listTemplatesPage({ status: 'active', pageSize: 100, pageToken: '' }));
        table.listTemplatesAll = await interleaved(folders, Math.min(calls, 200), (f) => f.learnloop.listTemplatesPage({ status: 'active', pageSize: 0, pageToken: '' }));
      }
    } finally {
      for (const f of folders) await f.store.close();
    }
  }
  result.table = table;
  result.ratios = Object.fromEntries(Object.entries(table).map(([k, [small, large]]) => [k, { p50: round(large!.p50Ms / small!.p50Ms), p99: round(large!.p99Ms / small!.p99Ms) }]));
  result.seconds = Math.round((Date.now() - started) / 1000);
  console.log(JSON.stringify(result, null, 2));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
}
