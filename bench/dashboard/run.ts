/**
 * Dashboard benchmark: how long the dashboard takes to aggregate a large folder, and to answer
 * once aggregated. Seeds N events (half Recommend decisions, half their observed runs, over 26
 * weeks, 8 templates, 4 task classes, 6 repositories, 12 failure reasons) into a fresh folder, then
 * times the first page (aggregation), the next pages and JSON views (cache), and the memory used.
 *
 *   npm run build && nice -n 10 node dist/bench/dashboard/run.js [events=1000000] [--keep DIR] [--restart]
 *
 * With --keep, the seeded folder is DIR/db and is kept; a later run with the same DIR and events
 * reuses it (seeding 1,000,000 events takes minutes). Writes bench/results/dashboard-<events>.json:
 * the first (uncached, without a snapshot) build and each of its parts, the first page, every view
 * answered from the cache, refreshes, peak RSS, and the snapshot's size and cost (left in the folder).
 * With --restart (after a run with the same --keep DIR), a new process starts a dashboard on the
 * folder and its snapshot: the first page, and the time until the first fresh model, are added to
 * the results as `restart`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { asArmId, asDecisionId, createRng, DEFAULT_LIMITS, type Decision } from '../../src/bandit/index.js';
import { loadRules } from '../../src/cli/commands/analytics.js';
import { compose } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { buildDashboard, type Folds } from '../../src/dashboard/model.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { snapshotOf } from '../../src/dashboard/snapshot.js';
import { learnLoopSource } from '../../src/dashboard/source.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { decisionPlan, observePlan } from '../../src/service/rules.js';
import { LmdbStore } from '../../src/store/index.js';
import { sourceUpTo } from './capped.js';

const TEMPLATES = ['bug-fix@v1', 'bug-fix@v2', 'feature@v1', 'feature@v2', 'docs@v1', 'refactor@v1', 'test@v1', 'custom'];
const CLASSES = ['bug-fix', 'feature', 'docs', 'refactor'];
const REPOS = ['org/api', 'org/web', 'org/cli', 'org/infra', 'org/mobile', 'org/data'];
const REASONS = [
  'npm test failed: 3 failing tests in src/a.test.ts',
  'tsc: error TS2322 in src/b.ts',
  'timeout after 1800 seconds',
  'lint failed: 12 problems',
  'merge conflict in package-lock.json',
  'agent gave up: could not reproduce',
  'exit 137 (killed)',
  'pytest failed: 2 failed, 40 passed',
  'build failed: cannot find module "x"',
  'verification failed: diff touches forbidden path /etc/x',
  'rate limited by the model provider',
  'flaky test: test_login timed out',
];
const WEEKS = 26;
/** New events a refresh is measured after. */
const REFRESH_AFTER = [10, 1000, 10_000];
const END_MS = Date.parse('2026-06-30T23:59:59.999Z');

async function seed(db: string, events: number): Promise<number> {
  const config = loadConfig({}, { db });
  const store = await LmdbStore.open(db, { policy: config.policy, noSync: true });
  const rng = createRng('bench-dashboard');
  const rate = TEMPLATES.map((_, i) => 0.3 + 0.05 * i);
  const span = WEEKS * 7 * 86_400_000;
  const pairs = Math.floor(events / 2);
  try {
    let batch: Array<Promise<unknown>> = [];
    let later: Array<() => Promise<unknown>> = [];
    const flush = async () => {
      await Promise.all(batch);
      await Promise.all(later.map((f) => f()));
      batch = [];
      later = [];
    };
    for (let i = 0; i < pairs; i++) {
      const atMs = END_MS - span + Math.floor((i / pairs) * span);
      const taskClass = CLASSES[i % CLASSES.length]!;
      const repo = REPOS[Math.floor(rng.next() * REPOS.length)]!;
      // The policy shifts traffic towards the better templates over time.
      const drift = i / pairs;
      const weights = rate.map((r) => Math.exp(6 * drift * r));
      const total = weights.reduce((a, b) => a + b, 0);
      let u = rng.next() * total;
      let k = 0;
      while (k < weights.length - 1 && (u -= weights[k]!) > 0) k++;
      const decisionId = `bench-${i}`;
      const decision: Decision = {
        decisionId: asDecisionId(decisionId),
        context: { taskClass, repo },
        chosen: asArmId(TEMPLATES[k]!),
        propensity: weights[k]! / total,
        ranking: TEMPLATES.map((t, j) => ({
          armId: asArmId(t),
          posterior: { mean: rate[j]!, ciLow: rate[j]! - 0.1, ciHigh: rate[j]! + 0.1, alpha: 10, beta: 10, observations: 20, evidenceLevel: 'task_class' },
          probBest: weights[j]! / total,
          propensity: weights[j]! / total,
        })),
        lift: { chosenMean: rate[k]!, uniformMean: 0.475, absolute: rate[k]! - 0.475, relative: 0, ciLow: 0, ciHigh: 0 },
        policyVersion: 'bench',
        rationale: '',
      };
      batch.push(store.commit(atMs, decisionPlan(decision, '', { taskClass, repo, candidateTemplateIds: TEMPLATES, topK: 0 }, TEMPLATES)));
      const pass = rng.next() < rate[k]!;
      // An observation names its decision, so it is written after the decisions of its batch.
      later.push(() =>
        store.commit(
          atMs + 600_000,
          observePlan(
          {
            runId: `run-${i}`,
            decisionId,
            templateId: TEMPLATES[k]!,
            taskClass,
            repo,
            taskId: `task-${Math.floor(i / 2)}`,
            attempt: 1 + (i % 2),
            outcome: pass ? 'pass' : rng.next() < 0.1 ? 'timeout' : 'fail',
            retries: 0,
            durationSeconds: 300,
            failureReason: pass ? '' : REASONS[Math.floor(rng.next() * REASONS.length)]!,
            finishedAtMs: atMs + 600_000,
            agent: 'claude',
            model: 'sonnet',
          },
          atMs + 600_000,
          ),
        ),
      );
      // Writes in flight together share one commit.
      if (batch.length >= 2000) await flush();
    }
    await flush();
    return store.head();
  } finally {
    await store.close();
  }
}

const ms = (t0: number) => Math.round(performance.now() - t0);
const cpuMs = (c: NodeJS.CpuUsage) => Math.round((c.user + c.system) / 1000);

/** A new process's dashboard on a folder with a snapshot: its first page, and when its first fresh model is there. */
async function restart(db: string, events: number): Promise<void> {
  const config = loadConfig({}, { db });
  const store = await LmdbStore.open(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
  const snapshotBytes = (await store.loadSnapshot('dashboard'))?.body.length ?? 0;
  if (snapshotBytes === 0) throw new Error(`${db} has no dashboard snapshot: run without --restart first`);
  const { source, actions } = learnLoopSource(compose(store, { limits: DEFAULT_LIMITS }, () => END_MS));
  const dash = await startDashboard({ source, actions, rules: loadRules(), host: '127.0.0.1', port: 0, token: '', asOfMs: END_MS, now: () => END_MS, warm: false });
  try {
    const get = async (path: string) => {
      const res = await fetch(`${dash.url}${path}`);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      return res.headers.get('x-learnloop-stale') === 'true';
    };
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const firstStale = await get('/');
    const firstPageMs = ms(t0);
    const firstPageCpuMs = cpuMs(process.cpuUsage(c0));
    // The first build (restoring the fold from the snapshot, then catching up) runs in the background.
    while (await get('/api/v1/overview')) await new Promise((resolve) => setTimeout(resolve, 20));
    const freshMs = ms(t0);
    const m = await dash.model();
    const result = {
      snapshotBytes,
      firstPageMs,
      firstPageCpuMs,
      firstPageStale: firstStale,
      freshModelMs: freshMs,
      freshModelCpuMs: cpuMs(process.cpuUsage(c0)),
      eventsFolded: m.eventsFolded,
      buildMs: Math.round(m.buildMs),
      phasesMs: Object.fromEntries(Object.entries(m.phasesMs).map(([k, v]) => [k, Math.round(v)])),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1e3),
    };
    process.stdout.write(JSON.stringify({ restart: result }, null, 2) + '\n');
    const file = join(PACKAGE_ROOT, 'bench', 'results', `dashboard-${events}.json`);
    const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(file, JSON.stringify({ ...before, restart: result }, null, 2) + '\n');
  } finally {
    await dash.close();
    await store.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keepAt = args.indexOf('--keep');
  const keep = keepAt >= 0 ? args.splice(keepAt, 2)[1] : undefined;
  const restartAt = args.indexOf('--restart');
  if (restartAt >= 0) args.splice(restartAt, 1);
  const events = Number(args[0] ?? 1_000_000);
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'learnloop-bench-dash-'));
  const db = join(dir, 'db');
  if (restartAt >= 0) {
    if (keep === undefined) throw new Error('--restart needs --keep DIR of an earlier run');
    return restart(db, events);
  }
  try {
    let t0 = performance.now();
    let seedMs = 0;
    if (!existsSync(db)) {
      mkdirSync(dir, { recursive: true });
      await seed(db, events);
      seedMs = ms(t0);
    }
    // The first build measured is a cold one: the snapshot an earlier run left (beside the LMDB environment) goes.
    rmSync(join(db, 'derived-dashboard.snapshot'), { force: true });
    const config = loadConfig({}, { db });
    const store = await LmdbStore.open(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
    const head = await store.head();
    if (Math.abs(head - events) > 16) throw new Error(`${db} holds ${head} events, not ${events}: use another --keep folder`);
    const { source, actions } = learnLoopSource(compose(store, { limits: DEFAULT_LIMITS }, () => END_MS));
    const rules = loadRules();
    const dash = await startDashboard({ source, actions, rules, host: '127.0.0.1', port: 0, token: '', asOfMs: END_MS, now: () => END_MS, warm: false });
    try {
      const get = async (path: string) => {
        const t = performance.now();
        const res = await fetch(`${dash.url}${path}`);
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
        return { path, ms: ms(t), bytes: body.length };
      };
      t0 = performance.now();
      const cpu0 = process.cpuUsage();
      // Without a snapshot the first request waits up to 5 s for the build, then is told how far it has
      // read (503 for JSON); asked again every second until the model is there.
      const building: Array<{ ms: number; eventsRead: number }> = [];
      for (;;) {
        const res = await fetch(`${dash.url}/api/v1/overview`);
        const body = await res.text();
        if (res.status === 200) break;
        if (res.status !== 503) throw new Error(`/api/v1/overview: ${res.status} ${body.slice(0, 200)}`);
        building.push({ ms: ms(t0), eventsRead: (JSON.parse(body) as { eventsRead: number }).eventsRead });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const firstModelMs = ms(t0);
      const cpu = process.cpuUsage(cpu0);
      const first = await get('/');
      const m = await dash.model();
      // Every page and JSON view once (each renders once per model), then again from the cache.
      const paths = ['/', '/matrix', '/traffic', '/lift', '/failures', '/refinements', '/templates', ...['overview', 'matrix', 'traffic', 'lift', 'failures', 'refinements', 'templates'].map((v) => `/api/v1/${v}`)];
      const firstRender = [];
      for (const p of paths) firstRender.push(await get(p));
      const rest = [];
      for (const p of paths) rest.push(await get(p));
      // Memory of the server with its model and fold, before the refresh measurements add folds of their own.
      const rssMb = Math.round(process.memoryUsage().rss / 1e6);
      const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1e3);
      // A build after k new events: fold the log as it stood k events ago, then build at the head,
      // which reads only those k (the server keeps its fold between builds the same way).
      const refresh: Record<string, unknown> = {};
      for (const k of REFRESH_AFTER) {
        const folds: Folds = {};
        await buildDashboard(sourceUpTo(source, head - k), { rules, asOfMs: END_MS }, folds);
        const c0 = process.cpuUsage();
        const r = await buildDashboard(source, { rules, asOfMs: END_MS }, folds);
        const c = process.cpuUsage(c0);
        refresh[k] = { eventsFolded: r.eventsFolded, buildMs: Math.round(r.buildMs), cpuMs: Math.round((c.user + c.system) / 1000), phasesMs: Object.fromEntries(Object.entries(r.phasesMs).map(([p, v]) => [p, Math.round(v)])) };
      }
      // The snapshot of the first build's fold (the server writes one the same way), left for --restart.
      const folds: Folds = {};
      const whole = await buildDashboard(source, { rules, asOfMs: END_MS }, folds);
      // As the server writes it: made a piece per turn while the store writes them (encoding and
      // writing together); the event loop's longest stall meanwhile is what a gRPC call or a page waits at most.
      const stalls = monitorEventLoopDelay({ resolution: 5 });
      stalls.enable();
      const t = performance.now();
      const c0 = process.cpuUsage();
      const snap = snapshotOf(source.policy, folds.current!, whole);
      let bytes = 0;
      await store.saveSnapshot('dashboard', snap.seq, (async function* () {
        for await (const piece of snap.body) {
          bytes += piece.length;
          yield piece;
        }
      })());
      const writeCpuMs = cpuMs(process.cpuUsage(c0));
      const writeMs = ms(t);
      stalls.disable();
      const snapshot = { bytes, writeMs, writeCpuMs, maxStallMs: Math.round(stalls.max / 1e6), p99StallMs: Math.round(stalls.percentile(99) / 1e6) };
      const result = {
        events: head,
        seedMs,
        firstPageMs: firstModelMs + first.ms,
        // The 'building' answers before it (time since the first request, events read then).
        buildingAnswers: building,
        aggregateMs: Math.round(m.buildMs),
        // CPU time of the first page (mostly the build): on a shared machine wall time also counts others' load.
        firstPageCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        phasesMs: Object.fromEntries(Object.entries(m.phasesMs).map(([k, v]) => [k, Math.round(v)])),
        firstRenderMs: Object.fromEntries(firstRender.map((r) => [r.path, r.ms])),
        cachedMs: Object.fromEntries(rest.map((r) => [r.path, r.ms])),
        maxCachedMs: Math.max(...rest.map((r) => r.ms)),
        refreshAfter: refresh,
        snapshot,
        liftDecisions: m.lift.decisions,
        liftInterval: m.lift.interval,
        rssMb,
        peakRssMb,
        node: process.version,
        cpus: (await import('node:os')).cpus().length,
      };
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      writeFileSync(join(PACKAGE_ROOT, 'bench', 'results', `dashboard-${events}.json`), JSON.stringify(result, null, 2) + '\n');
    } finally {
      await dash.close();
      await store.close();
    }
  } finally {
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
