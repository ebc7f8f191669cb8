/**
 * Load benchmark: a bare grpc-js echo server (the ceiling), learnloop Recommend and learnloop
 * Observe, driven on loopback by the same generators and settings; then the scaling ratios.
 *
 *   npm run bench:load -- [--json OUT] [--quick] [--skip-rebuild] [--read-flood-only] [--skip-stores | --stores-only]
 *
 * See docs/performance.md for what each number means and the last results.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/client.js';
import { ObserveRequest, Outcome, RecommendRequest } from '../../src/gen/learnloop/v1/learnloop.js';
import { createRng } from '../../src/bandit/rng.js';
import { DEFAULT_POLICY_CONFIG, summarizeSet } from '../../src/bandit/index.js';
import { ECHO_PATH, grpcFrame, patchable } from './frames.js';
import { runH2load, runNode, type LoadPoint, type LoadSpec } from './generator.js';
import { readFlood, type ReadFloodResult } from './read-flood.js';
import { seedObservations } from './seed.js';
import { compareStores, type StorePoint } from './stores.js';
import { killAll, peakRssBytes, ROOT, startEcho, startLearnLoop, type LearnLoopProcess } from './servers.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const quick = flag('--quick');
const readFloodOnly = flag('--read-flood-only');
const WARMUP_MS = quick ? 300 : 1000;
const DURATION_MS = quick ? 1000 : 4000;
const LEVELS = [1, 16, 64, 256];
const HEADLINE = 64;
const REBUILD_EVENTS = quick ? 50_000 : 1_000_000;
const SEGMENTS = quick ? 10_000 : 100_000;

const RECOMMEND_PATH = '/learnloop.v1.LearnLoopService/Recommend';
const OBSERVE_PATH = '/learnloop.v1.LearnLoopService/Observe';
const RUN_ID_PLACEHOLDER = 'RUN-ID-PLACEHOLDER-0000000000000'; // 32 bytes, overwritten per call

const scratch = mkdtempSync(join(tmpdir(), 'learnloop-bench-'));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const templateIds = (n: number) => Array.from({ length: n }, (_, i) => `tpl-${i}@v1`);

function recommendBody(taskClass: string, repo: string, candidates: readonly string[], topK = 8): Buffer {
  return grpcFrame(RecommendRequest.encode(RecommendRequest.fromPartial({ taskClass, repo, candidateTemplateIds: [...candidates], topK })).finish());
}

/** An Observe of `templateId` in the Recommend segment, with a placeholder run id each call overwrites. */
function observeBody(templateId: string): ReturnType<typeof patchable> {
  const msg = ObserveRequest.encode(
    ObserveRequest.fromPartial({
      runId: RUN_ID_PLACEHOLDER,
      templateId,
      taskClass: 'bug-fix',
      repo: 'org/app',
      taskId: 'task-1',
      attempt: 1,
      outcome: Outcome.OUTCOME_PASS,
      durationSeconds: 95,
      agent: 'claude',
      model: 'bench',
    }),
  ).finish();
  return patchable(grpcFrame(msg), RUN_ID_PLACEHOLDER);
}

const spec = (port: number, path: string, inFlight: number, extra: Partial<LoadSpec> = {}): LoadSpec => ({
  port,
  path,
  inFlight,
  warmupMs: WARMUP_MS,
  durationMs: DURATION_MS,
  ...extra,
});

/** Runs an h2load point against learnloop and checks, from the server's own counts, that every call was OK. */
async function h2loadChecked(server: LearnLoopProcess, rpc: string, s: LoadSpec): Promise<LoadPoint> {
  const before = await server.callCounts();
  const point = await runH2load(s, scratch);
  const after = await server.callCounts();
  let ok = 0;
  let notOk = 0;
  for (const [k, v] of Object.entries(after)) {
    const [r, code] = k.split(' ');
    if (r !== rpc) continue;
    const d = v - (before[k] ?? 0);
    if (code === 'OK') ok += d;
    else notOk += d;
  }
  if (ok < point.calls) throw new Error(`${rpc}: server counted ${ok} OK calls but h2load finished ${point.calls}`);
  return { ...point, errors: point.errors + notOk, statuses: { ...point.statuses, serverOk: ok, serverNotOk: notOk } };
}

const segOf = (i: number) => ({ taskClass: `class-${i % 100}`, repo: `org/repo-${Math.floor(i / 100)}` });

/**
 * Observe alone, then beside eight GetScores loopers, on a fresh server over `db` (a folder with
 * many segments). GetScores asks the widest segment (what a dashboard asks) and narrower ones.
 */
async function readFloodPoint(db: string): Promise<ReadFloodResult> {
  log('read flood: Observe alone, then beside 8 clients looping GetScores');
  const srv = await startLearnLoop(db);
  try {
    const segments = [{ taskClass: '', repo: '' }, { taskClass: 'class-1', repo: '' }, { taskClass: '', repo: 'org/repo-1' }, { taskClass: 'class-1', repo: 'org/repo-1' }];
    const r = await readFlood(srv, observeBody(templateIds(8)[0]!), segments, { warmupMs: WARMUP_MS, durationMs: DURATION_MS });
    log(`read flood: Observe p99 ${r.unloaded.p99Ms.toFixed(2)} ms alone, ${r.loaded.p99Ms.toFixed(2)} ms beside ${r.getScores.callsPerSec.toFixed(0)} GetScores/s: ${r.p99Ratio.toFixed(2)}x`);
    return r;
  } finally {
    await srv.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  if (readFloodOnly) {
    const db = join(scratch, 'seg-many');
    log(`read flood only: seeding ${SEGMENTS} segments`);
    await seedObservations(db, SEGMENTS, (i) => ({ templateId: templateIds(8)[i % 8]!, ...segOf(i) }));
    const readFloodResult = { generatedAt: new Date().toISOString(), command: `npm run bench:load -- ${args.join(' ')}`.trim(), segments: SEGMENTS, readFlood: await readFloodPoint(db) };
    if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(readFloodResult, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(readFloodResult, null, 2)}\n`);
    return;
  }
  const h2loadVersion = await new Promise<string>((resolve) =>
    execFile('h2load', ['--version'], (err, out) => resolve(err ? 'not installed' : out.trim())),
  );
  const haveH2load = h2loadVersion !== 'not installed';
  if (!haveH2load) log('h2load not found (apt-get install -y nghttp2-client): running the Node generator only');

  const rows: Array<{ server: string } & LoadPoint> = [];
  const add = (server: string, p: LoadPoint) => {
    rows.push({ server, ...p });
    log(`${server.padEnd(10)} ${p.generator.padEnd(6)} ${String(p.inFlight).padStart(3)} in flight: ${p.callsPerSec.toFixed(0)} calls/s, p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms, mean ${p.meanMs.toFixed(2)} ms, errors ${p.errors}`);
    if (p.errors > 0) log(`  statuses: ${JSON.stringify(p.statuses)}`);
  };

  const candidates8 = templateIds(8);
  const recBody = recommendBody('bug-fix', 'org/app', candidates8);
  const stores = () =>
    compareStores({
      scratch,
      candidates: candidates8,
      recommendPath: RECOMMEND_PATH,
      observePath: OBSERVE_PATH,
      recommendBody: recBody,
      observeBody: observeBody(candidates8[0]!),
      inFlight: HEADLINE,
      spec,
      log,
      add,
    });
  if (flag('--stores-only')) {
    const compared = await stores();
    const result = { generatedAt: new Date().toISOString(), machine: machine(h2loadVersion), command: commandLine(), stores: compared, table: rows, wallSeconds: (Date.now() - started) / 1000 };
    if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(storesMarkdown(compared.points));
    return;
  }

  // ---- the three servers -------------------------------------------------------------------

  log('echo server');
  const echo = await startEcho();
  for (const n of LEVELS) add('echo', await runNode(spec(echo.port, ECHO_PATH, n, { bodies: [recBody] })));
  if (haveH2load) {
    for (const n of LEVELS) {
      const before = await echo.count();
      const p = await runH2load(spec(echo.port, ECHO_PATH, n, { bodies: [recBody] }), scratch);
      if ((await echo.count()) - before < p.calls) throw new Error('echo answered fewer calls than h2load counted');
      add('echo', p);
    }
  }
  await echo.stop();

  // Every learnloop scenario below starts from this: 8 templates with 200 runs each in one segment.
  const warmFolder = async (name: string) => {
    const db = join(scratch, name);
    await seedObservations(db, 8 * 200, (i) => ({ templateId: candidates8[i % 8]!, taskClass: 'bug-fix', repo: 'org/app' }));
    return db;
  };
  log('Recommend: 8 templates with warm posteriors');
  const rec = await startLearnLoop(await warmFolder('recommend'));
  // A real client first: the prepared frame must decode and answer with 8 ranked templates.
  const client = createClient(`127.0.0.1:${rec.port}`);
  const sampleRes = await client.recommend({ taskClass: 'bug-fix', repo: 'org/app', candidateTemplateIds: candidates8, topK: 8 });
  if (sampleRes.ranking.length !== 8) throw new Error('sample Recommend did not rank 8 templates');
  client.close();
  for (const n of LEVELS) add('recommend', await runNode(spec(rec.port, RECOMMEND_PATH, n, { bodies: [recBody] })));
  if (haveH2load) for (const n of LEVELS) add('recommend', await h2loadChecked(rec, 'Recommend', spec(rec.port, RECOMMEND_PATH, n, { bodies: [recBody] })));
  await rec.stop();

  // The reply's posterior is fitted across the 8 active templates, as a dispatcher's would be.
  log('Observe: the same 8 warm templates, a distinct run_id per call');
  const obs = await startLearnLoop(await warmFolder('observe'));
  const patched = observeBody(candidates8[0]!);
  for (const n of LEVELS) add('observe', await runNode(spec(obs.port, OBSERVE_PATH, n, { patched, idPrefix: `o${n}-` })));
  const obsCounts = await obs.callCounts();
  await obs.stop();

  // Production traffic: every Observe changes the evidence Recommend reads, so Recommends in
  // between pay the fit and the Monte Carlo summary again (the hot rows above never do).
  log('mixed: Recommend and Observe on the same templates at once, half the calls in flight each');
  const mixed = await startLearnLoop(await warmFolder('mixed'));
  const [mixedRec, mixedObs] = await Promise.all([
    runNode(spec(mixed.port, RECOMMEND_PATH, HEADLINE / 2, { bodies: [recBody] }), 1),
    runNode(spec(mixed.port, OBSERVE_PATH, HEADLINE / 2, { patched, idPrefix: 'mixed-' }), 1),
  ]);
  add('mixed-recommend', mixedRec);
  add('mixed-observe', mixedObs);
  await mixed.stop();

  // LMDB against PostgreSQL, one replica and two, in this same run.
  let storeComparison: { points: StorePoint[]; postgres: string } | { skipped: string } = { skipped: '--skip-stores' };
  if (!flag('--skip-stores')) {
    try {
      storeComparison = await stores();
    } catch (err) {
      // No PostgreSQL on this machine: the rest of the run still stands.
      storeComparison = { skipped: String(err) };
      log(`store comparison skipped: ${String(err)}`);
    }
  }

  // ---- scaling ------------------------------------------------------------------------------
  const at = (server: string, gen: string, n = HEADLINE) => rows.find((r) => r.server === server && r.generator === gen && r.inFlight === n);
  const scaling: Record<string, unknown> = {};

  for (const k of [100, 1000]) {
    log(`Recommend with ${k} candidates`);
    const db = join(scratch, `cand-${k}`);
    const ids = templateIds(k);
    await seedObservations(db, k * 20, (i) => ({ templateId: ids[i % k]!, taskClass: 'bug-fix', repo: 'org/app' }));
    const srv = await startLearnLoop(db);
    add(`recommend-${k}`, await runNode(spec(srv.port, RECOMMEND_PATH, HEADLINE, { bodies: [recommendBody('bug-fix', 'org/app', ids)] })));
    await srv.stop();
  }
  scaling.mixed = {
    recommendCallsPerSec: mixedRec.callsPerSec,
    observeCallsPerSec: mixedObs.callsPerSec,
    recommendP50Ms: mixedRec.p50Ms,
    observeP50Ms: mixedObs.p50Ms,
  };
  const base8 = at('recommend', 'node')!.callsPerSec;
  scaling.candidates = {
    callsPerSec: { 8: base8, 100: at('recommend-100', 'node')!.callsPerSec, 1000: at('recommend-1000', 'node')!.callsPerSec },
    ratio100to8: at('recommend-100', 'node')!.callsPerSec / base8,
    ratio1000to8: at('recommend-1000', 'node')!.callsPerSec / base8,
    target: '1000 candidates >= 0.2x the 8-candidate rate',
  };
  // The Monte Carlo summary on its own (no cache): work grows far slower than candidates x samples.
  const mc: Record<string, number> = {};
  for (const k of [8, 100, 1000]) {
    const rng = createRng(`mc-${k}`);
    const posteriors = Array.from({ length: k }, () => {
      const runs = 20;
      const passes = Math.floor(rng.next() * (runs + 1));
      return { alpha: 1 + passes, beta: 1 + runs - passes };
    });
    const t0 = performance.now();
    let reps = 0;
    while (performance.now() - t0 < (quick ? 200 : 1000)) {
      summarizeSet(posteriors, createRng(`s${reps}`), DEFAULT_POLICY_CONFIG.summarySamples);
      reps++;
    }
    mc[k] = (performance.now() - t0) / reps;
  }
  scaling.monteCarloMsPerSummary = mc;

  log(`${SEGMENTS} segments against one`);
  const segDbOne = join(scratch, 'seg-one');
  const segDbMany = join(scratch, 'seg-many');
  await seedObservations(segDbOne, SEGMENTS, (i) => ({ templateId: candidates8[i % 8]!, taskClass: 'bug-fix', repo: 'org/app' }));
  await seedObservations(segDbMany, SEGMENTS, (i) => ({ templateId: candidates8[i % 8]!, ...segOf(i) }));
  // More distinct segments than a run makes calls: every call asks about a segment for the first time.
  const segRng = createRng('segments');
  const picked = new Set<number>();
  while (picked.size < Math.min(SEGMENTS, 20_000)) picked.add(Math.floor(segRng.next() * SEGMENTS));
  const manyBodies = [...picked].map((i) => recommendBody(segOf(i).taskClass, segOf(i).repo, candidates8));
  let srv = await startLearnLoop(segDbOne);
  add('segments-1', await runNode(spec(srv.port, RECOMMEND_PATH, HEADLINE, { bodies: [recBody] })));
  await srv.stop();
  srv = await startLearnLoop(segDbMany);
  // Spread: each call asks about a segment not asked before (cold caches).
  add(`segments-${SEGMENTS}`, await runNode(spec(srv.port, RECOMMEND_PATH, HEADLINE, { bodies: manyBodies })));
  await srv.stop();
  // Same folder, every call about one segment: isolates the size of the data from cache misses
  // (a fresh server, so the spread run's caches and garbage do not weigh on it).
  srv = await startLearnLoop(segDbMany);
  add(`segments-${SEGMENTS}-same`, await runNode(spec(srv.port, RECOMMEND_PATH, HEADLINE, { bodies: [manyBodies[0]!] })));
  await srv.stop();
  scaling.readFlood = await readFloodPoint(segDbMany);
  const one = at('segments-1', 'node')!.callsPerSec;
  scaling.segments = {
    segments: SEGMENTS,
    callsPerSecOne: one,
    callsPerSecManySpread: at(`segments-${SEGMENTS}`, 'node')!.callsPerSec,
    callsPerSecManySameSegment: at(`segments-${SEGMENTS}-same`, 'node')!.callsPerSec,
    ratioSpread: at(`segments-${SEGMENTS}`, 'node')!.callsPerSec / one,
    ratioSameSegment: at(`segments-${SEGMENTS}-same`, 'node')!.callsPerSec / one,
    target: 'within 10% of one segment (ratio >= 0.9)',
  };

  if (!flag('--skip-rebuild')) {
    log(`rebuild: seeding ${REBUILD_EVENTS} events`);
    const db = join(scratch, 'rebuild');
    const ids = templateIds(50);
    // One template registration per template, then observations: 1,000,000 events in all.
    const events = await seedObservations(db, REBUILD_EVENTS - ids.length, (i) => ({ templateId: ids[i % ids.length]!, ...segOf(i % 20_000) }));
    const dbBytes = statSync(join(db, 'data.mdb')).size;
    log(`rebuild of ${events} events`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(ROOT, 'bin', 'learnloop.js'), 'rebuild', '--db', db, '--json'], { maxBuffer: 1 << 20 }, (err, o, e) =>
        err ? reject(new Error(`${err.message}\n${e}`)) : resolve(o),
      ),
    );
    const rebuilt = JSON.parse(out) as { events: number; seconds: number; eventsPerSecond: number };
    log(`rebuilt ${rebuilt.events} events in ${rebuilt.seconds.toFixed(1)} s`);
    srv = await startLearnLoop(db);
    const idle = peakRssBytes(srv.pid);
    let peak = idle;
    let serverFailure: unknown = null;
    try {
      add('rebuild-db', await runNode(spec(srv.port, RECOMMEND_PATH, HEADLINE, { bodies: [recommendBody('class-1', 'org/repo-1', ids.slice(0, 8))] })));
      peak = peakRssBytes(srv.pid);
    } catch (err) {
      // Reported as it is (docs/performance.md): the server died under load on the rebuilt folder.
      await new Promise((r) => setTimeout(r, 500));
      serverFailure = { error: String(err), serverExit: srv.exitStatus(), serverStderrTail: srv.stderrTail() };
      log(`server on the rebuilt folder failed: ${JSON.stringify(serverFailure)}`);
    }
    await srv.stop();
    scaling.rebuild = { ...rebuilt, dbBytes, serverPeakRssBytesIdle: idle, serverPeakRssBytesUnderLoad: peak, serverFailure };
  }

  // ---- report --------------------------------------------------------------------------------
  // h2load where it can (it is not the bottleneck); Observe needs a fresh run_id per call, which
  // only the Node generator sends, so its ratio is given against both echo measurements.
  const headlineGen = haveH2load ? 'h2load' : 'node';
  const e = at('echo', headlineGen)!;
  const r = at('recommend', headlineGen)!;
  const o = at('observe', 'node')!;
  const eNode = at('echo', 'node')!;
  const ratios: Record<string, unknown> = {};
  for (const gen of ['node', 'h2load']) {
    for (const n of LEVELS) {
      const ee = at('echo', gen, n);
      if (!ee) continue;
      const rr = at('recommend', gen, n);
      const oo = at('observe', gen, n);
      ratios[`${gen}@${n}`] = {
        recommendToEcho: rr ? rr.callsPerSec / ee.callsPerSec : null,
        observeToEcho: oo ? oo.callsPerSec / ee.callsPerSec : null,
      };
    }
  }
  const result = {
    generatedAt: new Date().toISOString(),
    machine: machine(h2loadVersion),
    command: commandLine(),
    settings: { warmupMs: WARMUP_MS, durationMs: DURATION_MS, headlineInFlight: HEADLINE, headlineGenerator: headlineGen },
    echo: { callsPerSec: e.callsPerSec, p50Ms: e.p50Ms, p99Ms: e.p99Ms, generator: headlineGen, nodeGeneratorCallsPerSec: eNode.callsPerSec },
    recommend: { callsPerSec: r.callsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, generator: headlineGen, ratioToEcho: r.callsPerSec / e.callsPerSec, target: 0.8 },
    observe: {
      callsPerSec: o.callsPerSec,
      p50Ms: o.p50Ms,
      p99Ms: o.p99Ms,
      generator: 'node',
      ratioToEcho: o.callsPerSec / e.callsPerSec,
      ratioToEchoSameGenerator: o.callsPerSec / eNode.callsPerSec,
      target: 0.5,
    },
    ratios,
    scaling,
    stores: storeComparison,
    observeServerCallCounts: obsCounts,
    table: rows,
    wallSeconds: (Date.now() - started) / 1000,
  };
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(markdown(result.table, ratios));
  if ('points' in storeComparison) process.stdout.write(`\n${storesMarkdown(storeComparison.points)}`);
  process.stdout.write(`\n${JSON.stringify({ echo: result.echo, recommend: result.recommend, observe: result.observe, scaling }, null, 2)}\n`);
}

const machine = (h2load: string) => ({ cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), kernel: release(), node: process.version, h2load });
const commandLine = () => `npm run bench:load -- ${args.join(' ')}`.trim();

/** The store comparison as docs/performance.md shows it: each store and replica count, both RPCs. */
function storesMarkdown(points: readonly StorePoint[]): string {
  const lines = ['| store | replicas | Recommend calls/s | p50 ms | p99 ms | Observe calls/s | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const store of ['lmdb', 'postgres'] as const) {
    for (const replicas of [1, 2]) {
      const r = points.find((p) => p.store === store && p.replicas === replicas && p.rpc === 'recommend');
      const o = points.find((p) => p.store === store && p.replicas === replicas && p.rpc === 'observe');
      if (!r || !o) continue;
      lines.push(`| ${store} | ${replicas} | ${r.callsPerSec.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${o.callsPerSec.toFixed(0)} | ${o.p50Ms.toFixed(2)} | ${o.p99Ms.toFixed(2)} | ${r.errors + o.errors} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function markdown(rows: ReadonlyArray<{ server: string } & LoadPoint>, ratios: Record<string, unknown>): string {
  const lines = ['| server | generator | in flight | calls/s | p50 ms | p99 ms | mean ms | errors | ratio to echo |', '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const e = rows.find((x) => x.server === 'echo' && x.generator === r.generator && x.inFlight === r.inFlight);
    const ratio = e && r.server !== 'echo' ? (r.callsPerSec / e.callsPerSec).toFixed(2) : '';
    lines.push(`| ${r.server} | ${r.generator} | ${r.inFlight} | ${r.callsPerSec.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.meanMs.toFixed(2)} | ${r.errors} | ${ratio} |`);
  }
  void ratios;
  return `${lines.join('\n')}\n`;
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench:load failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    rmSync(scratch, { recursive: true, force: true });
  });
