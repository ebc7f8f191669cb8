import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, MAX_RUN_COUNT, validateObserveRequest } from '../../src/bandit/index.js';
import { withDefaultPort } from '../../src/client.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { freePort } from '../faults/child.js';
import { serveOnFreePort } from '../helpers/serve.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cliWith = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent', ...env } });
const cli = (...args: string[]) => cliWith({}, ...args);
/** One line on stderr, no stack. */
const oneLine = (r: { stderr: string }) => {
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
};
const lines = (text: string) => text.trim().split('\n');
const validObserve = { runId: 'r1', decisionId: '', templateId: 't@v1', taskClass: '', repo: '', taskId: '', attempt: 1, outcome: 'pass', retries: 0, durationSeconds: 0, failureReason: '', finishedAtMs: 0, agent: '', model: '' };

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

describe('a path, file or date given wrong is one line naming it, exit 2, never a stack', () => {
  const store = () => {
    const db = join(tmpDir(), 'db');
    expect(cli('templates', 'register', 'a@v1', '--db', db, '--create').status).toBe(0);
    return db;
  };
  const aFile = () => {
    const file = join(tmpDir(), 'afile');
    writeFileSync(file, '');
    return file;
  };
  test.each<[string, () => string[], string]>([
    ['--db a file', () => ['scores', '--db', aFile()], 'not a folder'],
    ['--db under a file, --create', () => ['templates', 'register', 'foo@v1', '--db', join(aFile(), 'sub'), '--create'], 'not a folder'],
    ['serve --db under a file', () => ['serve', '--port', '0', '--db', join(aFile(), 'sub')], 'not a folder'],
    ['import runs of a missing path', () => ['import', 'runs', join(tmpDir(), 'nonexistent'), '--db', store()], 'nonexistent'],
    ['import of a missing file', () => ['import', join(tmpDir(), 'nonexistent.jsonl'), '--db', store()], 'nonexistent.jsonl'],
    ['report --out in a missing folder', () => ['report', 'scores', '--db', store(), '--out', join(tmpDir(), 'nonexistent-dir', 'x.md')], '--out'],
    ['dashboard --as-of garbage', () => ['dashboard', '--db', store(), '--http-port', '0', '--as-of', 'garbage'], '--as-of'],
    ['report --as-of a day that does not exist', () => ['report', 'weekly', '--db', store(), '--as-of', '2026-02-30'], '--as-of'],
    ['report --since a day that does not exist', () => ['report', 'outcomes', '--db', store(), '--since', '2026-04-31'], '--since'],
    ['refinements scan --as-of 29 February of a common year', () => ['refinements', 'scan', '--db', store(), '--as-of', '2026-02-29'], '--as-of'],
    ['templates register of an empty id', () => ['templates', 'register', '', '--db', store()], 'INVALID_ARGUMENT: template_id'],
  ])('%s', (_, args, named) => {
    const r = cli(...args());
    expect(r.status, r.stderr).toBe(2);
    oneLine(r);
    expect(r.stderr).toContain(named);
  });

  test('refinements reject --by "": INVALID_ARGUMENT as a client command would print it, exit 2', () => {
    const r = cli('refinements', 'reject', 'x#1', '--by', '', '--reason', 'r', '--db', store());
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^learnloop: INVALID_ARGUMENT: actor: .*\(LL_INVALID_ARGUMENT\)$/)]);
  });

  test('any other filesystem error is one line too (a dangling link under import runs)', () => {
    const dir = join(tmpDir(), 'runs');
    mkdirSync(dir);
    symlinkSync(join(dir, 'gone'), join(dir, 'link.json'));
    const r = cli('import', 'runs', dir, '--db', store());
    expect(r.status).toBe(2);
    oneLine(r);
    expect(r.stderr).toContain(join(dir, 'link.json'));
  });

  test('import runs says how many runs it classified, not that it found that many task classes', () => {
    // It printed "2 task classes from the classifier" for two records of one class: read as two classes.
    const dir = join(tmpDir(), 'runs');
    mkdirSync(dir);
    const record = { bead: 'bd-1', template_name: 'custom', status: 'done', started_at: '2026-02-13T09:00:00Z', finished_at: '2026-02-13T09:10:00Z', exit_code: 0, verification: { tests: 'pass' }, prompt_full: 'Fix the crash in the login form.' };
    writeFileSync(join(dir, 'runs.jsonl'), [record, { ...record, bead: 'bd-2' }, { ...record, bead: 'bd-3', task_class: 'docs' }].map((r) => JSON.stringify(r)).join('\n'));
    const r = cli('import', 'runs', dir, '--db', join(tmpDir(), 'db'), '--create', '--no-scan');
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['3 applied, 0 duplicates, 0 skipped (of 3 records); task class read from the prompt for 2 (the record named none)']);
  });

  test('import runs opens refinement items with the remediations of the rules file it is given', () => {
    // Its scan read the shipped rules only: a team's own rule (here for CHANGELOG failures) was in
    // report failures and the dashboard (--rules) but not in the items import runs opened.
    const dir = join(tmpDir(), 'runs');
    mkdirSync(dir);
    const rules = join(dir, 'rules.json.txt');
    writeFileSync(rules, JSON.stringify({ version: 3, rules: [{ id: 'changelog', match: 'changelog entry missing', action: 'Add a CHANGELOG step to Verify.', rationale: 'Reviewers reject PRs without one.' }] }));
    const record = (i: number) => ({ bead: `bd-${i}`, template_name: 'feature@v1', task_class: 'feature', status: 'failed', exit_code: 1, failure_reason: 'CHANGELOG entry missing', started_at: `2026-02-13T09:${String(i).padStart(2, '0')}:00Z`, finished_at: `2026-02-13T10:${String(i).padStart(2, '0')}:00Z`, verification: { tests: 'pass' } });
    writeFileSync(join(dir, 'runs.jsonl'), Array.from({ length: 14 }, (_, i) => JSON.stringify(record(i))).join('\n'));
    const db = join(tmpDir(), 'db');
    const r = cli('import', 'runs', join(dir, 'runs.jsonl'), '--db', db, '--create', '--rules', rules);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('refinement items opened: feature@v1#1');
    const [item] = JSON.parse(cli('refinements', 'list', '--db', db, '--json').stdout) as Array<{ evidence: { topFailures: Array<{ remediation: { ruleId: string } | null }> } }>;
    expect(item!.evidence.topFailures[0]!.remediation?.ruleId).toBe('changelog');
  });

  test('refinements list marks an open item whose template was retired, as the weekly does', () => {
    // Retiring a template leaves its item open for a person to decide; the list showed it as ordinary open work.
    const dir = join(tmpDir(), 'runs');
    mkdirSync(dir);
    const record = (i: number) => ({ bead: `bd-${i}`, template_name: 'feature@v1', task_class: 'feature', status: 'failed', exit_code: 1, failure_reason: 'tests failed', started_at: `2026-02-13T09:${String(i).padStart(2, '0')}:00Z`, finished_at: `2026-02-13T10:${String(i).padStart(2, '0')}:00Z`, verification: { tests: 'fail' } });
    writeFileSync(join(dir, 'runs.jsonl'), Array.from({ length: 14 }, (_, i) => JSON.stringify(record(i))).join('\n'));
    const db = join(tmpDir(), 'db');
    expect(cli('import', 'runs', join(dir, 'runs.jsonl'), '--db', db, '--create').stdout).toContain('refinement items opened: feature@v1#1');
    const row = () => lines(cli('refinements', 'list', '--db', db).stdout).find((l) => l.startsWith('feature@v1#1'))!;
    expect(row()).not.toContain('(retired)');
    expect(cli('templates', 'register', 'feature@v1', '--status', 'retired', '--db', db).status).toBe(0);
    expect(row()).toMatch(/^feature@v1#1 +feature@v1 \(retired\) +open /);
  });

  test('import runs of athena\'s state folder: the runner\'s status files are no error', () => {
    // state/ holds runs/, results/ and the runner's watch/<bead>.status.json ({bead, agent,
    // finished_at, exit_code}); those were "no status" errors, so a nightly import of state/ exited 2.
    const state = join(tmpDir(), 'state');
    const athena = join(PACKAGE_ROOT, 'test', 'fixtures', 'athena');
    for (const [dir, from, to] of [['runs', 'run__athena-web__bd-1nn.json', 'bd-1nn.json'], ['results', 'result__athena-web__bd-1nn.json', 'bd-1nn.json'], ['watch', 'watch-status__athena-web__bd-1nn.json', 'bd-1nn.status.json']]) {
      mkdirSync(join(state, dir!), { recursive: true });
      writeFileSync(join(state, dir!, to!), readFileSync(join(athena, from!)));
    }
    const r = cli('import', 'runs', state, '--db', join(tmpDir(), 'db'), '--create', '--no-scan', '--json');
    expect(r.status, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ records: 3, applied: 1, pairedResults: 1, statusFiles: 1, skipped: [{ reason: "bd-1nn: the runner's status file, not a run record" }] });
  });

  test('a leap day exists: 2028-02-29 is taken', () => {
    expect(cli('report', 'weekly', '--db', store(), '--as-of', '2028-02-29').status).toBe(0);
  });

  test('dashboard on a port in use: one line naming the port, as serve does', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = cli('dashboard', '--db', store(), '--http-port', String(port));
      expect(r.status).toBe(2);
      expect(lines(r.stderr)).toEqual([expect.stringContaining(`cannot serve the dashboard on 127.0.0.1:${port} (is another server using that port?)`)]);
    } finally {
      busy.close();
    }
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

  test('--token says what it guards: serve names every write RPC and the dashboard; dashboard names its pages', () => {
    const entry = (help: string) => /--token[\s\S]*?(?=\n  --)/.exec(help)![0].replace(/\s+/g, ' ');
    expect(entry(cli('serve', '--help').stdout)).toMatch(/Recommend, Observe, RegisterTemplate and DecideRefinement, and on every dashboard page/);
    const dashboard = entry(cli('dashboard', '--help').stdout);
    expect(dashboard).toMatch(/every dashboard page, JSON URL, action and \/metrics/);
    expect(dashboard).not.toMatch(/Recommend|RPC/);
  });

  test('observe --attempt and --retries take the server\'s limit, and say it', () => {
    expect(validateObserveRequest({ ...validObserve, attempt: MAX_RUN_COUNT, retries: MAX_RUN_COUNT }, DEFAULT_LIMITS)).toEqual([]);
    expect(validateObserveRequest({ ...validObserve, attempt: MAX_RUN_COUNT + 1, retries: MAX_RUN_COUNT + 1 }, DEFAULT_LIMITS).map((v) => v.field)).toEqual(['attempt', 'retries']);
    // Help, the flag's own check and the server agree: 0 to MAX_RUN_COUNT, 0 meaning unknown.
    const help = cli('observe', '--help').stdout.replace(/\s+/g, ' ');
    expect(help).toContain(`--attempt <n> attempt number from 0 to ${MAX_RUN_COUNT}: 1 for the first attempt at the task, 0 = unknown`);
    expect(help).toContain(`--retries <n> retries within the run, from 0 to ${MAX_RUN_COUNT}`);
    expect(cli('observe', '--run-id', 'r1', '--outcome', 'pass', '--attempt', String(MAX_RUN_COUNT + 1), '--addr', '127.0.0.1:1').stderr).toContain(`must be a whole number from 0 to ${MAX_RUN_COUNT}`);
  });

  test('--candidates shows its default once', () => {
    const help = cli('recommend', '--help').stdout;
    const entry = /--candidates[\s\S]*?(?=\n  --)/.exec(help)![0];
    expect(entry.match(/default/g)).toHaveLength(1);
  });
});

describe('a dashboard other machines can reach needs a token', () => {
  test.each([
    ['dashboard', ['dashboard', '--host', '0.0.0.0']],
    ['serve --http-port', ['serve', '--host', '0.0.0.0', '--port', '0', '--http-port', '1']],
  ])('%s on 0.0.0.0 without --token: exit 2 naming the flags, nothing created', (_name, args) => {
    const parent = tmpDir();
    const db = join(parent, 'db');
    if (args[0] === 'dashboard') expect(cli('templates', 'register', 'a@v1', '--db', db, '--create').status).toBe(0);
    const before = readdirSync(parent);
    const r = cli(...args, '--db', db);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe('learnloop: --host 0.0.0.0: a dashboard reachable from other machines needs --token (LEARNLOOP_TOKEN), or anyone who reaches it, and any web page its users open, could act on it; set --token, or keep --host on 127.0.0.1\n');
    expect(readdirSync(parent)).toEqual(before);
  });
});

describe('input is checked before anything is sent', () => {
  test.each([
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--attempt', '-1'], '--attempt'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--retries', '2.5'], '--retries'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--duration', 'soon'], '--duration'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--finished-at', 'yesterday'], '--finished-at'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--finished-at', '2026-02-30T00:00:00Z'], '--finished-at'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--attempt', String(MAX_RUN_COUNT + 1)], '--attempt'],
    [['observe', '--run-id', 'r1', '--outcome', 'pass', '--retries', String(MAX_RUN_COUNT + 1)], '--retries'],
    [['recommend', '--top-k', '-3'], '--top-k'],
  ])('%j: exit 2 naming %s (no server is running, so reaching it would be exit 1)', async (args, flag) => {
    const r = cli(...args, '--addr', `127.0.0.1:${await freePort()}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).not.toMatch(/INTERNAL|serialization/);
  });
});

describe('--addr is checked before dialling', () => {
  test.each([[''], ['127.0.0.1:notaport'], ['127.0.0.1:99999'], ['127.0.0.1:0'], [':50051'], ['[::1]:']])('--addr %j: exit 2 naming --addr, at once', (addr) => {
    const started = Date.now();
    const r = cli('recommend', '--addr', addr, '--candidates', 'a@v1');
    expect(r.status).toBe(2);
    oneLine(r);
    expect(r.stderr).toMatch(/^learnloop: --addr: must be host\[:port\]/);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  test('LEARNLOOP_ADDR is checked the same way', () => {
    const r = cliWith({ LEARNLOOP_ADDR: 'localhost:notaport' }, 'observe', '--run-id', 'r1', '--outcome', 'pass');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--addr (from LEARNLOOP_ADDR)');
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
    const fresh = join(tmpDir(), 'new', 'db2');
    const r = cli('serve', '--port', String(port), '--db', fresh);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringContaining(`cannot listen on 127.0.0.1:${port} (is another server using that port?)`)]);
    // serve makes a new folder only for a server that starts.
    expect(existsSync(join(fresh, '..'))).toBe(false);
  });

  test('--json prints every field, zeros and false too', async () => {
    const { addr } = await serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(tmpDir(), 'db')]);
    const rec = cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1', '--json');
    expect(rec.status).toBe(0);
    const posterior = JSON.parse(rec.stdout).ranking[0].posterior;
    expect(posterior.observations).toBe(0);
    expect(posterior).toHaveProperty('evidenceLevel');
    // Empty repeated fields too: the second call registers nothing new.
    expect(JSON.parse(rec.stdout).newTemplateIds).toEqual(['a@v1', 'b@v1']);
    const again = JSON.parse(cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1', '--json').stdout);
    expect(again.newTemplateIds).toEqual([]);
    const obs = cli('observe', '--addr', addr, '--run-id', 'r1', '--decision-id', JSON.parse(rec.stdout).decisionId, '--outcome', 'fail', '--json');
    expect(obs.status).toBe(0);
    expect(JSON.parse(obs.stdout)).toMatchObject({ duplicate: false });
  });

  /** The recommend table's own-runs column, by template: its header and each row's cell. */
  const ownRunsColumn = (stdout: string) => {
    const rows = stdout.split('\n').filter((l) => /^\S+ {2,}/.test(l)).map((l) => l.split(/ {2,}/));
    const at = rows[0]!.findIndex((h) => h.startsWith('own runs'));
    return { header: rows[0]![at], cells: Object.fromEntries(rows.slice(2).map((r) => [r[0], r[at]])) };
  };
  const passes = (addr: string, n: number) => {
    for (let i = 0; i < n; i++) expect(cli('observe', '--addr', addr, '--run-id', `r${i}`, '--template', 'a@v1', '--outcome', 'pass').status).toBe(0);
  };

  test('recommend shows own runs as whole runs, and --json the numbers as they are', async () => {
    const { addr } = await serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(tmpDir(), 'db')]);
    expect(ownRunsColumn(cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1').stdout)).toEqual({ header: 'own runs', cells: { 'a@v1': '0', 'b@v1': '0' } });
    passes(addr, 3);
    expect(ownRunsColumn(cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1').stdout)).toEqual({ header: 'own runs', cells: { 'a@v1': '3', 'b@v1': '0' } });
    const ranking = JSON.parse(cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1', '--json').stdout).ranking;
    expect(Object.fromEntries(ranking.map((r: { templateId: string; ownRuns: number }) => [r.templateId, r.ownRuns]))).toEqual({ 'a@v1': 3, 'b@v1': 0 });
  });

  test('under decay, own runs are effective runs: a tenth shown, and the header says decayed', async () => {
    const { addr } = await serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(tmpDir(), 'db'), '--decay-half-life', '2runs']);
    passes(addr, 3);
    const json = JSON.parse(cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1', '--json').stdout).ranking;
    const a = json.find((r: { templateId: string }) => r.templateId === 'a@v1').ownRuns;
    expect(Number.isInteger(a)).toBe(false);
    expect(ownRunsColumn(cli('recommend', '--addr', addr, '--candidates', 'a@v1,b@v1').stdout)).toEqual({ header: 'own runs (decayed)', cells: { 'a@v1': a.toFixed(1), 'b@v1': '0.0' } });
  });
});

describe('commands that read a store refuse a missing one', () => {
  test.each([['scores'], ['rebuild'], ['export'], ['templates', 'list'], ['report', 'scores'], ['report', 'lift'], ['refinements', 'list'], ['dashboard', '--http-port', '0']])('%j --db missing: exit 2, nothing created', (...cmd) => {
    const db = join(tmpDir(), 'typo');
    const r = cli(...cmd, '--db', db);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--db ${db}: no learnloop store there`);
    expect(existsSync(db)).toBe(false);
  });

  // A folder without a store: an unrelated one, or one whose data file is empty (a creation cut short).
  test.each([
    ['README', 'scores'],
    ['README', 'export'],
    ['README', 'templates list'],
    ['README', 'report weekly --as-of 2026-12-01'],
    ['README', 'dashboard --http-port 0'],
    ['data.mdb', 'scores'],
  ])('a folder holding only an empty %s: `%s` exits 2 on one line and writes nothing into it', (file, cmd) => {
    const dir = tmpDir();
    writeFileSync(join(dir, file), '');
    const r = cli(...cmd.split(' '), '--db', dir);
    expect(r.status, r.stderr).toBe(2);
    oneLine(r);
    expect(r.stderr).toContain(`--db ${dir}: no learnloop store there (the folder holds no data.mdb, or an empty one)`);
    expect(readdirSync(dir)).toEqual([file]);
  });

  test('--db . in a project folder is refused without dropping LMDB files there', () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'README'), 'hi\n');
    const r = spawnSync(process.execPath, [BIN, 'report', 'weekly', '--db', '.', '--as-of', '2026-12-01'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('--db .: no learnloop store there');
    expect(readdirSync(dir)).toEqual(['README']);
  });

  test('a folder whose data file is cut short is refused on one line, read and serve alike, and left as it was', () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'data.mdb'), Buffer.alloc(4096));
    for (const cmd of [['scores'], ['serve', '--port', '0']]) {
      const r = cli(...cmd, '--db', dir);
      expect(r.status, r.stderr).toBe(2);
      oneLine(r);
      expect(r.stderr).toContain(`--db ${dir}: its data file is cut short (data.mdb, 4096 bytes;`);
      expect(readdirSync(dir)).toEqual(['data.mdb']);
    }
  });

  test("another program's LMDB environment is refused on one line, read and serve alike, and nothing is written to it", async () => {
    const dir = tmpDir();
    const env = open({ path: dir });
    await env.put('customer-42', { name: 'x' });
    await env.openDB({ name: 'orders' }).put(1, 'o');
    await env.close();
    const keys = async () => {
      const again = open({ path: dir, readOnly: true });
      const names = Array.from(again.getKeys(), String);
      await again.close();
      return names;
    };
    expect(await keys()).toEqual(['customer-42', 'orders']);
    for (const cmd of [['scores'], ['export'], ['serve', '--port', '0']]) {
      const r = cli(...cmd, '--db', dir);
      expect(r.status, r.stderr).toBe(2);
      oneLine(r);
      expect(r.stderr).toContain("its data.mdb is another program's LMDB environment (holding customer-42, orders), not a learnloop store");
    }
    expect(await keys()).toEqual(['customer-42', 'orders']);
  });

  test('report lift reads LEARNLOOP_DB like every --db command', () => {
    const db = join(tmpDir(), 'db');
    expect(cli('templates', 'register', 'a@v1', '--db', db, '--create').status).toBe(0);
    const r = cliWith({ LEARNLOOP_DB: db }, 'report', 'lift');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`learnloop: no decisions with observed outcomes in ${db}\n`);
  });

  test('import events makes a store only when given --create', () => {
    const from = join(tmpDir(), 'from');
    expect(cli('templates', 'register', 'a@v1', '--db', from, '--create').status).toBe(0);
    const file = join(tmpDir(), 'events.jsonl');
    writeFileSync(file, cli('export', '--db', from).stdout);
    const db = join(tmpDir(), 'new');
    const r = cli('import', 'events', file, '--db', db);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--db ${db}: no learnloop store there`);
    expect(existsSync(db)).toBe(false);
    expect(cli('import', 'events', file, '--db', db, '--create').status).toBe(0);
  });

  test('import events refuses an event no live write could have logged, naming line and field, and writes nothing; exact edge values pass', () => {
    const dir = tmpDir();
    const lines = join(dir, 'obs.jsonl');
    const obs = (runId: string, durationSeconds: number) => JSON.stringify({ run_id: runId, template_id: 't@v1', outcome: 'OUTCOME_PASS', duration_seconds: durationSeconds, finished_at: '1970-01-01T00:00:00Z' });
    writeFileSync(lines, `${obs('r1', 1e-300)}\n${obs('r2', 1e9)}\n`);
    const from = join(dir, 'from');
    expect(cli('import', lines, '--db', from, '--create').status).toBe(0);
    const exported = cli('export', '--db', from).stdout;
    const events = exported.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const at = events.findIndex((e) => e.type === 'observation');
    // Edge values a live write takes (1e-300 s, the longest run, 1970-01-01) go through, bit for bit.
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, exported);
    expect(cli('import', 'events', file, '--db', join(dir, 'edge'), '--create').status).toBe(0);
    expect(cli('export', '--db', join(dir, 'edge')).stdout).toBe(exported);
    for (const [change, message] of [
      [(e: Record<string, any>) => delete e.observation, 'observation must be an object; got undefined'],
      [(e: Record<string, any>) => (e.observation.outcome = 'bogus'), 'observation.outcome must be one of pass, partial, fail, timeout, infra_error, unverified; got "bogus"'],
      [(e: Record<string, any>) => (e.observation.durationSeconds = -5), 'observation.durationSeconds must be a finite number >= 0; got -5'],
      [(e: Record<string, any>) => (e.content.durationSeconds = { $n: 'NaN' }), 'content.durationSeconds must be a finite number >= 0; got NaN'],
      [(e: Record<string, any>) => (e.observation.finishedAtMs = 'yesterday'), 'observation.finishedAtMs must be a time between 1970 and 9999; got "yesterday"'],
      [(e: Record<string, any>) => (e.observation.armId = ''), 'observation.armId is required; got an empty string'],
    ] as const) {
      const broken = [...events];
      const copy = structuredClone(events[at]!);
      change(copy);
      broken[at] = copy;
      writeFileSync(file, broken.map((e) => JSON.stringify(e)).join('\n'));
      const db = join(dir, 'to');
      const r = cli('import', 'events', file, '--db', db, '--create');
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`learnloop: ${file}:${at + 1}: not an event learnloop could have logged: ${message}\n`);
      expect(existsSync(db)).toBe(false);
    }
  });

  test('import and templates register make one only when given --create', () => {
    const db = join(tmpDir(), 'new');
    expect(cli('templates', 'register', 'a@v1', '--db', db).status).toBe(2);
    expect(existsSync(db)).toBe(false);
    expect(cli('templates', 'register', 'a@v1', '--db', db, '--create').status).toBe(0);
    expect(cli('templates', 'list', '--db', db, '--json').status).toBe(0);
  });
});

describe('templates register --task-class', () => {
  test('takes a comma list or a repeated flag; a refined version keeps its parent\'s; list shows the scope', () => {
    const db = join(tmpDir(), 'db');
    const fix = cli('templates', 'register', 'bug-fix@v1', '--task-class', 'bug-fix,hotfix', '--task-class', 'triage', '--db', db, '--create');
    expect(fix.stdout).toBe('registered bug-fix@v1 (active) for bug-fix,hotfix,triage\n');
    expect(cli('templates', 'register', 'any@v1', '--db', db).stdout).toBe('registered any@v1 (active)\n');
    const refined = JSON.parse(cli('templates', 'register', 'bug-fix@v2', '--parent', 'bug-fix@v1', '--json', '--db', db).stdout) as { record: { taskClasses: string[] } };
    expect(refined.record.taskClasses).toEqual(['bug-fix', 'hotfix', 'triage']);
    const list = lines(cli('templates', 'list', '--db', db).stdout);
    expect(list[0]).toMatch(/template\s+status\s+parent\s+task classes/);
    expect(list.find((l) => l.startsWith('any@v1'))).toMatch(/every class/);
    expect(list.find((l) => l.startsWith('bug-fix@v1'))).toMatch(/bug-fix,hotfix,triage/);
    const bad = cli('templates', 'register', 'x@v1', '--task-class', 'docs', '--task-class', 'x'.repeat(600), '--db', db);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/task_classes\[1\]/);
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
    // The values Observe takes (not OUTCOME_UNSPECIFIED, which it refuses), in the server's words for a bad value.
    expect(summary.rejected[0]!.reason).toBe(
      'outcome: must be one of OUTCOME_PASS, OUTCOME_PARTIAL, OUTCOME_FAIL, OUTCOME_TIMEOUT, OUTCOME_INFRA_ERROR, OUTCOME_UNVERIFIED; got "pass" (did you mean OUTCOME_PASS?)',
    );
    expect(summary.rejected[1]!.reason).toContain('"tempalte"');
    expect(summary.rejected[1]!.reason).toContain('--ignore-unknown-fields');
  });

  test('an enum name with no likely meaning gets the list alone', () => {
    const { summary } = importLines([{ ...good, outcome: 'OK' }, { ...good, run_id: 'ok-2', outcome: 'OUTCOME_UNSPECIFIED' }]);
    expect(summary.rejected.map((r) => r.reason)).toEqual([
      'outcome: must be one of OUTCOME_PASS, OUTCOME_PARTIAL, OUTCOME_FAIL, OUTCOME_TIMEOUT, OUTCOME_INFRA_ERROR, OUTCOME_UNVERIFIED; got "OK"',
      expect.stringMatching(/^outcome: must be one of OUTCOME_PASS, .*OUTCOME_UNVERIFIED; got "OUTCOME_UNSPECIFIED"$/),
    ]);
  });

  test('--ignore-unknown-fields skips fields the message does not have', () => {
    const { status, summary } = importLines([{ ...good, dispatcher_note: 'x' }], '--ignore-unknown-fields');
    expect(status).toBe(0);
    expect(summary).toMatchObject({ applied: 1, rejected: [] });
  });

  test('a finished_at on a day that does not exist is rejected, not rolled into the next month', () => {
    const { status, summary } = importLines([{ ...good, finished_at: '2026-02-30T00:00:00Z' }]);
    expect(status).toBe(2);
    expect(summary.rejected[0]!.reason).toContain('"finished_at":"2026-02-30T00:00:00Z"');
  });

  test('numbers out of range name the field', () => {
    const { summary } = importLines([{ ...good, attempt: -1 }]);
    expect(summary.rejected[0]!.reason).toMatch(/attempt.*-1/);
  });
});

describe('run-record import', () => {
  const run = (bead: string, status: string) => JSON.stringify({ bead, status, template_name: 't@v1', finished_at: '2026-01-01T00:00:00Z' });
  function importRuns(...records: string[]) {
    const dir = join(tmpDir(), 'runs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'r.jsonl'), records.join('\n'));
    const r = cli('import', 'runs', dir, '--db', join(tmpDir(), 'db'), '--create', '--no-scan', '--json');
    return { status: r.status, summary: JSON.parse(r.stdout) as { applied: number; skipped: unknown[] } };
  }

  test('records in error (not JSON, unknown status, no template) exit 2, as rejected JSONL lines do; the good ones are imported', () => {
    const { status, summary } = importRuns('not json', run('b1', 'weird'), JSON.stringify({ bead: 'b2', status: 'done', finished_at: '2026-01-01T00:00:00Z' }), run('b3', 'done'));
    expect(status).toBe(2);
    expect(summary).toMatchObject({ applied: 1 });
    expect(summary.skipped).toHaveLength(3);
  });

  test('a run still running is skipped without an error', () => {
    const { status, summary } = importRuns(run('b1', 'running'), run('b2', 'done'));
    expect(status).toBe(0);
    expect(summary).toMatchObject({ applied: 1, stillRunning: 1 });
  });
});

describe('text from callers reaches a terminal as text', () => {
  // A failure reason is often an agent's or a test's output: whoever wrote it must not be able to
  // recolour, clear or retitle the operator's terminal, set its clipboard (OSC 52), overwrite a
  // line (\r) or reorder one (U+202E) through a report, a table or an error line.
  const HOSTILE = 'boom \u001b]52;c;cHduZWQ=\u0007 \u001b[8mhidden\u001b[0m\rover \u009b2J \u202eoops';
  const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  test('report failures, refinements list and an error line show escapes, not the characters; --json keeps the text', () => {
    const db = join(tmpDir(), 'db');
    const file = join(tmpDir(), 'obs.jsonl');
    const rows = Array.from({ length: 12 }, (_, i) => ({ run_id: `r${i}`, template_id: 't@v1', outcome: 'OUTCOME_FAIL', failure_reason: HOSTILE, finished_at: '2026-11-30T10:00:00Z' }));
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(cli('import', file, '--db', db, '--create').status).toBe(0);

    const report = cli('report', 'failures', '--db', db, '--as-of', '2026-12-01');
    expect(report.status).toBe(0);
    expect(report.stdout).not.toMatch(RAW);
    expect(report.stdout).toContain('boom \\x1b]\\<n>;c;chduzwq=\\x07 \\x1b[8mhidden\\x1b[0m');
    expect(report.stdout).toContain('\\u202eoops');

    expect(cli('refinements', 'scan', '--db', db, '--as-of', '2026-12-01').status).toBe(0);
    // The person's name is an id (no control characters); the reason is free text.
    expect(cli('refinements', 'reject', 't@v1#1', '--db', db, '--by', 'mallory\u001b[2J', '--reason', 'r').status).toBe(2);
    expect(cli('refinements', 'reject', 't@v1#1', '--db', db, '--by', 'mallory', '--reason', HOSTILE).status).toBe(0);
    const list = cli('refinements', 'list', '--db', db);
    expect(list.stdout).toContain('\\x1b[8mhidden\\x1b[0m\\x0dover \\x9b2J \\u202eoops');
    expect(list.stdout).not.toMatch(RAW);
    const json = JSON.parse(cli('refinements', 'list', '--db', db, '--json').stdout) as Array<{ reason: string }>;
    expect(json[0]!.reason).toBe(HOSTILE);

    // An error line quotes what it was given: a path here.
    const missing = cli('scores', '--db', join(tmpDir(), 'no\u001b[2Jsuch\u202e'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no\\x1b[2Jsuch\\u202e');
    expect(missing.stderr).not.toMatch(RAW);
  });
});
