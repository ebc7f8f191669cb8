import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { withDefaultPort } from '../../src/client.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { freePort } from '../faults/child.js';
import { serveOnFreePort } from '../helpers/serve.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent' } });
const lines = (text: string) => text.trim().split('\n');

describe('exit codes: 0 success, 1 the operation failed, 2 usage or input error', () => {
  test.each([
    [['recommend', '--bogus'], /unknown option '--bogus'/],
    [['observe', '--run-id', 'r1'], /required option '--outcome/],
    [['observe', '--run-id', 'r1', '--outcome', 'great'], /--outcome: must be one of pass/],
    [['templates', 'register', 'a@v1', '--status', 'weird', '--create'], /--status/],
    [['nosuchcommand'], /unknown command/],
  ])('%j is a usage error: exit 2 with the problem on one line and a hint, not the whole usage', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/Usage:|Options:/);
    expect(lines(r.stderr).length).toBeLessThanOrEqual(2);
  });

  test('--help and --version succeed', () => {
    expect(cli('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(cli('--version').status).toBe(0);
    expect(cli('scores', '--help').status).toBe(0);
  });
});

describe('help', () => {
  test.each([['scores'], ['rebuild'], ['import'], ['templates', 'list']])('%j --help lists only its own flags', (...cmd) => {
    const help = cli(...cmd, '--help').stdout;
    expect(help).toMatch(/--db/);
    for (const serverOnly of ['--port', '--host', '--partial-reward', '--tls-cert', '--max-candidates', '--shutdown-grace-ms']) {
      expect(help).not.toContain(serverOnly);
    }
  });

  test('serve --help lists the server settings', () => {
    expect(cli('serve', '--help').stdout).toMatch(/--partial-reward[\s\S]*--shutdown-grace-ms/);
  });

  test('--candidates shows its default once', () => {
    const help = cli('recommend', '--help').stdout;
    const entry = /--candidates[\s\S]*?(?=\n  --)/.exec(help)![0];
    expect(entry.match(/default/g)).toHaveLength(1);
  });
});

describe('input is checked before anything is sent', () => {
  test.each([
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--attempt', '-1'], '--attempt'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--retries', '2.5'], '--retries'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--duration', 'soon'], '--duration'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--finished-at', 'yesterday'], '--finished-at'],
    [['recommend', '--top-k', '-3'], '--top-k'],
  ])('%j: exit 2 naming %s (no server is running, so reaching it would be exit 1)', async (args, flag) => {
    const r = cli(...args, '--addr', `127.0.0.1:${await freePort()}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).not.toMatch(/INTERNAL|serialization/);
  });
});

describe('talking to a server', () => {
  test('no server: exit 1 with one line saying where it looked and how to start one', async () => {
    const port = await freePort();
    const r = cli('recommend', '--addr', `127.0.0.1:${port}`, '--candidates', 'a@v1');
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toEqual([`learnloop: UNAVAILABLE: cannot reach 127.0.0.1:${port}: is a server running on 127.0.0.1:${port}? start one with learnloop serve`]);
  });

  test('an address without a port means port 50051', () => {
    expect(withDefaultPort('localhost')).toBe('localhost:50051');
    expect(withDefaultPort('10.0.0.7')).toBe('10.0.0.7:50051');
    expect(withDefaultPort('[::1]')).toBe('[::1]:50051');
    expect(withDefaultPort('::1')).toBe('[::1]:50051');
    expect(withDefaultPort('localhost:7000')).toBe('localhost:7000');
    expect(withDefaultPort('[::1]:7000')).toBe('[::1]:7000');
    expect(withDefaultPort('dns:///example.com:7000')).toBe('dns:///example.com:7000');
    expect(withDefaultPort('unix:/run/learnloop.sock')).toBe('unix:/run/learnloop.sock');
  });

  test('serve on a busy port: one line naming the port, no stack trace', async () => {
    const { port } = await serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(tmpDir(), 'db')]);
    const r = cli('serve', '--port', String(port), '--db', join(tmpDir(), 'db2'));
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringContaining(`cannot listen on 127.0.0.1:${port} (is another server using that port?)`)]);
  });

  test('--json prints every field, zeros and false too', async () => {
    const { addr } = await serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(tmpDir(), 'db')]);
    const rec = cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1', '--json');
    expect(rec.status).toBe(0);
    const posterior = JSON.parse(rec.stdout).ranking[0].posterior;
    expect(posterior.observations).toBe(0);
    expect(posterior).toHaveProperty('evidenceLevel');
    const obs = cli('observe', '--addr', addr, '--run-id', 'r1', '--decision-id', JSON.parse(rec.stdout).decisionId, '--outcome', 'fail', '--json');
    expect(obs.status).toBe(0);
    expect(JSON.parse(obs.stdout)).toMatchObject({ duplicate: false });
  });
});

describe('commands that read a store refuse a missing one', () => {
  test.each([['scores'], ['rebuild'], ['export'], ['templates', 'list'], ['report', 'scores'], ['refinements', 'list']])('%j --db missing: exit 2, nothing created', (...cmd) => {
    const db = join(tmpDir(), 'typo');
    const r = cli(...cmd, '--db', db);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--db ${db}: no learnloop store there`);
    expect(existsSync(db)).toBe(false);
  });

  test('import and templates register make one only when given --create', () => {
    const db = join(tmpDir(), 'new');
    expect(cli('templates', 'register', 'a@v1', '--db', db).status).toBe(2);
    expect(existsSync(db)).toBe(false);
    expect(cli('templates', 'register', 'a@v1', '--db', db, '--create').status).toBe(0);
    expect(cli('templates', 'list', '--db', db, '--json').status).toBe(0);
  });
});

describe('JSONL import', () => {
  const good = { run_id: 'ok-1', template_id: 'docs@v1', outcome: 'OUTCOME_PASS', finished_at: '2026-11-30T10:00:00Z' };
  function importLines(rows: unknown[], ...flags: string[]) {
    const file = join(tmpDir(), 'obs.jsonl');
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const r = cli('import', file, '--db', join(tmpDir(), 'db'), '--create', '--json', ...flags);
    return { status: r.status, summary: JSON.parse(r.stdout) as { applied: number; rejected: Array<{ line: number; reason: string }> } };
  }

  test('an unknown enum name is quoted as given; a misspelled field is rejected, naming it; exit 2 with --json', () => {
    const { status, summary } = importLines([good, { ...good, run_id: 'ok-2', outcome: 'pass' }, { run_id: 'ok-3', tempalte: 'docs@v1', outcome: 'OUTCOME_PASS' }]);
    expect(status).toBe(2);
    expect(summary.applied).toBe(1);
    expect(summary.rejected.map((r) => r.line)).toEqual([2, 3]);
    expect(summary.rejected[0]!.reason).toContain('"outcome":"pass"');
    expect(summary.rejected[0]!.reason).toContain('OUTCOME_PASS');
    expect(summary.rejected[1]!.reason).toContain('"tempalte"');
    expect(summary.rejected[1]!.reason).toContain('--ignore-unknown-fields');
  });

  test('--ignore-unknown-fields skips fields the message does not have', () => {
    const { status, summary } = importLines([{ ...good, dispatcher_note: 'x' }], '--ignore-unknown-fields');
    expect(status).toBe(0);
    expect(summary).toMatchObject({ applied: 1, rejected: [] });
  });

  test('numbers out of range name the field', () => {
    const { summary } = importLines([{ ...good, attempt: -1 }]);
    expect(summary.rejected[0]!.reason).toMatch(/attempt.*-1/);
  });
});
