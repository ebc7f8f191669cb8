import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { importRuns } from '../../src/importers/import-runs.js';
import { normalizeRepo, normalizeRunRecord, validateFieldMap } from '../../src/importers/run-record.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { observationEvents } from '../helpers/events.js';

const ATHENA = new URL('../fixtures/athena/', import.meta.url).pathname;
const REAL = [join(ATHENA, 'run__athena-web__bd-1nn.json'), join(ATHENA, 'run__athena-web__bd-1so.json')];
const RESULTS = [join(ATHENA, 'result__athena-web__bd-1nn.json'), join(ATHENA, 'result__athena-web__bd-1so.json')];
const IMPORT_TIME = Date.UTC(2030, 0, 1);

async function openLoop(dir = tmpDir()) {
  const store = await LmdbStore.open(dir, { policy: DEFAULT_POLICY_CONFIG, noSync: true });
  return { store, ll: new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => IMPORT_TIME }) };
}

const observations = observationEvents;

const record = (over: Record<string, unknown>) => ({
  schema_version: 1,
  bead: 'bd-1',
  agent: 'claude',
  model: 'sonnet',
  repo: '$HOME/app',
  prompt: 'Fix the login bug',
  started_at: '2026-03-02T10:00:00Z',
  finished_at: '2026-03-02T10:10:00Z',
  duration_seconds: 600,
  status: 'done',
  attempt: 1,
  exit_code: 0,
  template_name: 'bug-fix',
  verification: { lint: 'pass', tests: 'pass', ubs: 'clean', overall: 'pass' },
  ...over,
});

describe('import runs', () => {
  test('the two real records import as unverified runs of template custom, with the record\'s time', async () => {
    const { store, ll } = await openLoop();
    const summary = await importRuns(ll, REAL);
    expect(summary).toMatchObject({ records: 2, applied: 2, duplicates: 0, skipped: [] });
    const obs = (await observations(store)).map((e) => e.observation);
    expect(obs.map((o) => [o.taskId, o.armId, o.outcome, o.failureReason, o.context.repo, o.agent, o.model])).toEqual([
      ['bd-1nn', 'custom', 'unverified', 'verification missing', 'athena-web-portal', 'claude', 'sonnet'],
      ['bd-1so', 'custom', 'unverified', 'verification missing', 'athena-web', 'codex', 'codex'],
    ]);
    // The old system's feedback for bd-1nn said partial_pass / verification-gap, stamped with its own clock.
    const old = JSON.parse(readFileSync(join(ATHENA, 'derived__feedback__bd-1nn.json'), 'utf8')) as { outcome: string; timestamp: string };
    expect(old.outcome).toBe('partial_pass');
    expect(obs[0]!.finishedAtMs).toBe(Date.parse('2026-02-13T10:00:18Z'));
    expect(obs[0]!.finishedAtMs).not.toBe(Date.parse(old.timestamp));
    expect(obs[0]!.durationSeconds).toBe(721);
    // Unverified runs count as runs but not in the pass rate, and teach the posterior nothing.
    const card = (await ll.scores('', '')).find((c) => c.templateId === 'custom')!;
    expect(card.counters.runs).toBe(2);
    expect(card.counters.unverified).toBe(2);
    expect(card.posterior.observations).toBe(0);
    await store.close();
  });

  test('importing the same records twice changes nothing and says so', async () => {
    const { store, ll } = await openLoop();
    const dir = tmpDir();
    writeFileSync(join(dir, 'runs.jsonl'), [record({}), record({ bead: 'bd-2', attempt: 1 })].map((r) => JSON.stringify(r)).join('\n'));
    const first = await importRuns(ll, [...REAL, dir]);
    const head = await store.head();
    const snapshot = await store.derivedSnapshot();
    const second = await importRuns(ll, [...REAL, dir]);
    expect(first).toMatchObject({ records: 4, applied: 4, duplicates: 0 });
    expect(second).toMatchObject({ records: 4, applied: 0, duplicates: 4, skipped: [] });
    expect(await store.head()).toBe(head);
    expect(await store.derivedSnapshot()).toEqual(snapshot);
    await store.close();
  });

  test('a retried bead is one task with several attempts, each its own run', async () => {
    const { store, ll } = await openLoop();
    const dir = tmpDir();
    const attempts = [
      record({ attempt: 1, status: 'failed', exit_code: 1, failure_reason: 'tests failed', started_at: '2026-03-02T10:00:00Z', finished_at: '2026-03-02T10:05:00Z' }),
      record({ attempt: 2, started_at: '2026-03-02T11:00:00Z', finished_at: '2026-03-02T11:09:00Z' }),
    ];
    writeFileSync(join(dir, 'a.json'), JSON.stringify(attempts));
    expect(await importRuns(ll, [dir])).toMatchObject({ applied: 2 });
    const obs = (await observations(store)).map((e) => e.observation);
    expect(obs.map((o) => [o.runId, o.taskId, o.attempt, o.outcome])).toEqual([
      ['bd-1#1@2026-03-02T10:00:00Z', 'bd-1', 1, 'fail'],
      ['bd-1#2@2026-03-02T11:00:00Z', 'bd-1', 2, 'pass'],
    ]);
    const card = (await ll.scores('', ''))[0]!;
    expect([card.counters.firstAttempts, card.counters.firstAttemptPasses]).toEqual([1, 0]);
    await store.close();
  });

  test('the real result records pair with their run records instead of being skipped', async () => {
    const { store, ll } = await openLoop();
    const summary = await importRuns(ll, [...RESULTS, ...REAL]);
    expect(summary).toMatchObject({ records: 4, applied: 2, pairedResults: 2, skipped: [] });
    expect((await observations(store)).map((e) => [e.observation.taskId, e.observation.armId, e.observation.outcome])).toEqual([
      ['bd-1nn', 'custom', 'unverified'],
      ['bd-1so', 'custom', 'unverified'],
    ]);
    await store.close();
  });

  test('the whole athena folder: a result pairs only with its run record, and every record is counted once', async () => {
    const { store, ll } = await openLoop();
    // The folder also holds watch-status and feedback files for the same beads, with no start time and no template.
    const s = await importRuns(ll, [ATHENA]);
    expect(s).toMatchObject({ applied: 2, duplicates: 0, pairedResults: 2 });
    expect(s.records).toBe(s.applied + s.duplicates + s.skipped.length + s.pairedResults);
    const skippedFiles = s.skipped.map((x) => x.source.slice(ATHENA.length));
    expect(skippedFiles).toEqual(expect.arrayContaining(['watch-status__athena-web__bd-1nn.json', 'watch-status__athena-web__bd-1so.json', 'derived__feedback__bd-1nn.json']));
    expect(skippedFiles.filter((f) => f.startsWith('run__') || f.startsWith('result__'))).toEqual([]);
    // Not completed by a result, the feedback file says what it lacks of its own.
    expect(s.skipped.find((x) => x.source.endsWith('derived__feedback__bd-1nn.json'))!.reason).toBe('bd-1nn: no status');
    await store.close();
  });

  test('two result records for one run are each counted: one pairs, the other is skipped', async () => {
    const { store, ll } = await openLoop();
    const dir = tmpDir();
    const result = { bead: 'bd-1', status: 'done', reason: 'status-file', will_retry: false, started_at: '2026-03-02T10:00:00Z', attempt: 1 };
    writeFileSync(join(dir, 'a.jsonl'), [record({}), result, { ...result, started_at: '2026-03-02T12:00:00Z' }, record({})].map((r) => JSON.stringify(r)).join('\n'));
    const s = await importRuns(ll, [dir]);
    expect(s).toMatchObject({ records: 4, applied: 1, duplicates: 1, pairedResults: 1 });
    expect(s.skipped.map((x) => x.source.slice(dir.length))).toEqual(['/a.jsonl:3']);
    expect(s.records).toBe(s.applied + s.duplicates + s.skipped.length + s.pairedResults);
    await store.close();
  });

  test('a result record completes its run record: status, finish time, exit code and verification come from it', async () => {
    const { store, ll } = await openLoop();
    const dir = tmpDir();
    const result = (over: Record<string, unknown>) => ({
      schema_version: 1, bead: 'bd-1', agent: 'claude', status: 'done', reason: 'status-file', started_at: '2026-03-02T10:00:00Z',
      finished_at: '2026-03-02T10:20:00Z', duration_seconds: 1200, attempt: 1, max_retries: 2, will_retry: false, exit_code: 0,
      session_name: 'agent-bd-1', verification: { tests: 'pass', overall: 'pass' }, ...over,
    });
    // The dispatcher wrote its run records while the runs were going; the runner wrote the results at the end.
    writeFileSync(join(dir, 'runs.jsonl'), [
      record({ status: 'running', finished_at: null, duration_seconds: null, exit_code: null, verification: null }),
      record({ bead: 'bd-2', status: 'running', finished_at: null, duration_seconds: null, exit_code: null, verification: null }),
    ].map((r) => JSON.stringify(r)).join('\n'));
    writeFileSync(join(dir, 'results.jsonl'), [
      result({}),
      result({ bead: 'bd-2', status: 'failed', exit_code: 1, verification: null }),
      result({ bead: 'bd-3' }),
      result({ attempt: 2, started_at: '2026-03-02T11:00:00Z' }),
    ].map((r) => JSON.stringify(r)).join('\n'));
    const s = await importRuns(ll, [dir]);
    expect(s).toMatchObject({ records: 6, applied: 2, pairedResults: 2 });
    expect(s.skipped.map((x) => [x.source.slice(dir.length), x.reason])).toEqual([
      ['/results.jsonl:3', 'bd-3: result record with no run record (attempt 1), so no template to credit'],
      ['/results.jsonl:4', 'bd-1: result record with no run record (attempt 2), so no template to credit'],
    ]);
    const obs = (await observations(store)).map((e) => e.observation);
    expect(obs.map((o) => [o.taskId, o.armId, o.outcome, o.finishedAtMs, o.durationSeconds])).toEqual([
      ['bd-1', 'bug-fix', 'pass', Date.parse('2026-03-02T10:20:00Z'), 1200],
      ['bd-2', 'bug-fix', 'fail', Date.parse('2026-03-02T10:20:00Z'), 1200],
    ]);
    // Imported again (any order of paths): the same runs, so duplicates.
    expect(await importRuns(ll, [join(dir, 'results.jsonl'), join(dir, 'runs.jsonl')])).toMatchObject({ applied: 0, duplicates: 2 });
    await store.close();
  });

  test('reports what it skipped and why', async () => {
    const { ll, store } = await openLoop();
    const dir = tmpDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'bad.json'), '{ not json');
    writeFileSync(
      join(dir, 'runs.jsonl'),
      [
        JSON.stringify(record({ status: 'running', finished_at: null })),
        JSON.stringify(record({ bead: '' })),
        JSON.stringify(record({ bead: 'bd-9', template_name: null })),
        JSON.stringify(record({ bead: 'bd-8', finished_at: null, duration_seconds: null })),
        JSON.stringify(record({ bead: 'bd-7', status: 'exploded' })),
        '[1, 2',
        JSON.stringify(record({ bead: 'bd-6' })),
        JSON.stringify(record({ bead: 'bd-6', exit_code: 3 })), // same run id, different content
      ].join('\n'),
    );
    writeFileSync(join(dir, 'notes.txt'), 'ignored: not .json or .jsonl');
    const s = await importRuns(ll, [dir]);
    expect(s.applied).toBe(1);
    expect(s.skipped.map((x) => x.reason)).toEqual([
      'bd-1: still running',
      'no bead (task id)',
      'bd-9: no template_name, so no template to credit',
      'bd-8: no finished_at (nor started_at + duration_seconds)',
      'bd-7: unknown status "exploded"',
      expect.stringMatching(/^not valid JSON/),
      expect.stringMatching(/^bd-6#1@2026-03-02T10:00:00Z: run_id: .* already recorded with different content \(outcome, failure_reason differ\)/),
      expect.stringMatching(/^not valid JSON/),
    ]);
    expect(s.skipped.map((x) => x.source.slice(dir.length))).toEqual([
      '/runs.jsonl:1', '/runs.jsonl:2', '/runs.jsonl:3', '/runs.jsonl:4', '/runs.jsonl:5', '/runs.jsonl:6', '/runs.jsonl:8', '/sub/bad.json',
    ]);
    await store.close();
  });

  test('a time that is not one, or names a day that does not exist, is skipped naming the field, never rolled over', () => {
    const skip = (r: Record<string, unknown>) => normalizeRunRecord(record(r), {});
    expect(skip({ finished_at: '2026-02-30T10:10:00Z' })).toEqual({ kind: 'skip', reason: 'bd-1: finished_at is not a time (or names a day that does not exist): "2026-02-30T10:10:00Z"' });
    expect(skip({ started_at: '2026-04-31' })).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/^bd-1: started_at is not a time/) });
    expect(skip({ finished_at: 'soon' })).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/^bd-1: finished_at is not a time/) });
    // Other formats and epoch numbers still read; a leap day is a day.
    expect(skip({ finished_at: 'Mon, 02 Mar 2026 10:10:00 GMT' })).toMatchObject({ kind: 'run', params: { finishedAtMs: Date.UTC(2026, 2, 2, 10, 10) } });
    expect(skip({ started_at: '2028-02-29T10:00:00Z', finished_at: 1835433000, duration_seconds: null })).toMatchObject({ kind: 'run', params: { finishedAtMs: 1835433000000, durationSeconds: 1800 } });
  });

  test('a field map reads another dispatcher\'s records', () => {
    const map = {
      fields: { bead: 'task.id', template_name: 'prompt_template', status: 'state', finished_at: 'times.end', started_at: 'times.start', exit_code: 'rc', task_class: 'kind', repo: 'repository' },
      status: { succeeded: 'done', errored: 'failed' },
    } as const;
    expect(validateFieldMap(map)).toEqual([]);
    const n = normalizeRunRecord(
      { task: { id: 'T-1' }, prompt_template: 'feature@v2', state: 'errored', rc: 4, kind: 'feature', repository: 'https://github.com/org/app.git', times: { start: '2026-03-01T00:00:00Z', end: '2026-03-01T00:02:00Z' } },
      map,
    );
    expect(n).toMatchObject({
      kind: 'run',
      taskClassSource: 'record',
      params: { taskId: 'T-1', templateId: 'feature@v2', outcome: 'fail', failureReason: 'agent failed: exit 4', taskClass: 'feature', repo: 'org/app', durationSeconds: 120 },
    });
    expect(validateFieldMap({ fields: { nope: 'x' }, status: { ok: 'great' }, extra: 1 })).toEqual([
      'unknown key "extra" (expected fields, status)',
      'fields.nope: not a run field (one of run_id, bead, agent, model, repo, template_name, task_class, status, attempt, exit_code, failure_reason, started_at, finished_at, duration_seconds, verification, prompt, prompt_full)',
      'status.ok: must be done, failed, timeout or running',
    ]);
  });

  test.each([
    ['$HOME/athena-web', 'athena-web'],
    ['/home/u/src/athena-web/', 'athena-web'],
    ['org/app', 'org/app'],
    ['git@github.com:org/app.git', 'org/app'],
    ['https://github.com/org/app', 'org/app'],
    ['', ''],
  ])('repo %j -> %j', (raw, expected) => expect(normalizeRepo(raw)).toBe(expected));
});
