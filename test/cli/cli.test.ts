import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent' } });
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

beforeAll(() => {
  // The command runs compiled code: `npm ci` builds it (prepare), and `npm test` rebuilds it first.
  expect(existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is built').toBe(true);
});

const JSONL = [
  // proto field names, enum by name
  '{"run_id":"a1","template_id":"bug-fix@v1","task_class":"bug-fix","repo":"acme/api","outcome":"OUTCOME_PASS","duration_seconds":120,"finished_at":"2026-02-13T10:00:18Z"}',
  // lowerCamelCase names
  '{"runId":"a2","templateId":"bug-fix@v1","taskClass":"bug-fix","repo":"acme/api","outcome":"OUTCOME_FAIL","retries":2}',
  '{"runId":"a3","templateId":"bug-fix@v2","taskClass":"bug-fix","repo":"acme/api","outcome":"OUTCOME_PASS"}',
  '',
  '{"runId":"bad","outcome":"OUTCOME_PASS"}',
  'not json',
].join('\n');

describe('learnloop command line', () => {
  test('import is idempotent, reports what it rejected, and scores/rebuild work on the folder', () => {
    const db = tmpDir();
    const file = join(tmpDir(), 'obs.jsonl');
    writeFileSync(file, JSONL);
    const first = cli('import', file, '--db', db, '--create', '--json');
    expect(first.status).toBe(2); // some lines were rejected: an input error, also with --json
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ applied: 3, duplicates: 0 });
    expect(summary.rejected.map((r: { line: number }) => r.line)).toEqual([5, 6]);
    expect(summary.rejected[0].reason).toMatch(/template_id/);
    const again = JSON.parse(cli('import', file, '--db', db, '--json').stdout);
    expect(again).toMatchObject({ applied: 0, duplicates: 3 });

    const scores = JSON.parse(cli('scores', '--db', db, '--task-class', 'bug-fix', '--json').stdout);
    const v1 = scores.find((s: { templateId: string }) => s.templateId === 'bug-fix@v1');
    expect(v1.counters).toMatchObject({ runs: 2, passes: 1, fails: 1, retriedRuns: 1 });

    const table = cli('scores', '--db', db);
    expect(table.stdout).toMatch(/template\s+runs\s+judged\s+pass rate\s+first-try pass/);

    const rebuilt = JSON.parse(cli('rebuild', '--db', db, '--json').stdout);
    expect(rebuilt.events).toBeGreaterThanOrEqual(5); // 3 observations + 2 implicit templates
    expect(JSON.parse(cli('scores', '--db', db, '--task-class', 'bug-fix', '--json').stdout)).toEqual(scores);
  });

  test('templates register and list', () => {
    const db = tmpDir();
    expect(cli('templates', 'register', 'docs@v1', '--db', db, '--create').status).toBe(0);
    expect(cli('templates', 'register', 'docs@v2', '--parent', 'docs@v1', '--status', 'candidate', '--db', db).status).toBe(0);
    const list = JSON.parse(cli('templates', 'list', '--db', db, '--json').stdout);
    expect(list.map((t: { templateId: string; status: string; parentTemplateId: string }) => [t.templateId, t.status, t.parentTemplateId])).toEqual([
      ['docs@v1', 'active', ''],
      ['docs@v2', 'candidate', 'docs@v1'],
    ]);
  });

  test('templates register on a registered template: --status keeps the description, --description keeps the status', () => {
    const db = tmpDir();
    // --create: the first call makes the store in the empty temp folder (a folder with no store is refused).
    const register = (...args: string[]) => JSON.parse(cli('templates', 'register', 'foo@v2', '--db', db, '--create', '--json', ...args).stdout) as { record: { status: string; description: string } };
    expect(register('--description', 'adds a Verify section').record).toMatchObject({ status: 'active', description: 'adds a Verify section' });
    expect(register('--status', 'retired').record).toMatchObject({ status: 'retired', description: 'adds a Verify section' });
    expect(register('--description', 'adds a Verify section; retired after trial').record).toMatchObject({ status: 'retired', description: 'adds a Verify section; retired after trial' });
  });

  test('bad configuration is reported all at once, with exit code 2', () => {
    const r = cli('serve', '--port', 'abc', '--partial-reward', '3', '--db', tmpDir());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--port/);
    expect(r.stderr).toMatch(/--partial-reward/);
  });

  test('recommend and observe talk to a running server; --json is for scripts', async () => {
    const db = tmpDir();
    const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', db], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(server);
    const addr = await new Promise<string>((resolve, reject) => {
      let log = '';
      server.stderr!.on('data', (c: Buffer) => {
        log += c.toString();
        const m = /"port":(\d+)/.exec(log);
        if (m) resolve(`127.0.0.1:${m[1]}`);
      });
      server.on('exit', () => reject(new Error(log)));
    });
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (c: Buffer) => (stdout += c));
        p.stderr.on('data', (c: Buffer) => (stderr += c));
        p.on('exit', (status) => resolve({ status, stdout, stderr }));
      });
    const rec = await run('recommend', '--addr', addr, '--task-class', 'docs', '--repo', 'acme/site', '--candidates', 'docs@v1,docs@v2', '--json');
    expect(rec.status, rec.stderr).toBe(0);
    const decision = JSON.parse(rec.stdout);
    expect(['docs@v1', 'docs@v2']).toContain(decision.chosenTemplateId);
    const obs = await run('observe', '--addr', addr, '--run-id', 'r1', '--decision-id', decision.decisionId, '--outcome', 'pass', '--json');
    expect(obs.status, obs.stderr).toBe(0);
    expect(JSON.parse(obs.stdout)).toMatchObject({ applied: true });
    const bad = await run('observe', '--addr', addr, '--run-id', 'r2', '--decision-id', 'missing', '--outcome', 'pass');
    expect(bad.status).toBe(1);
    // One line with the catalog code, as a --db command prints its errors.
    expect(bad.stderr).toMatch(/^learnloop: NOT_FOUND: .*\(LL_DECISION_NOT_FOUND\)\n$/);
    // The text output says when a call registered an id (a typo named once becomes a candidate).
    const typo = await run('recommend', '--addr', addr, '--task-class', 'docs', '--repo', 'acme/site', '--candidates', 'docs@v1,docsv2');
    expect(typo.stdout).toMatch(/^new: docsv2 \(registered as candidates/m);
    const observed = await run('observe', '--addr', addr, '--run-id', 'r3', '--template', 'docs@v9', '--outcome', 'pass');
    expect(observed.stdout).toMatch(/; docs@v9 is new: registered as a candidate/);
  });
});
