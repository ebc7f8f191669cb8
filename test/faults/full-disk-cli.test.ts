/**
 * CLI writes on a real full disk (a 2 MB tmpfs filled to its last byte): every write exits 1 with
 * one line ending (LL_STORAGE_FULL), writes nothing, and a new folder is neither created nor left
 * behind (LMDB creating one on a full tmpfs used to die with SIGBUS and leave an empty data file).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { freePort } from './child.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'warn' } });

/**
 * learnloop's own lines on stderr. lmdb-js also prints its own stack and C messages there on a
 * failed commit (docs/deploy.md, "A full disk"); those are not learnloop's and are left out here.
 */
const ownLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('learnloop'));

const mountPoint = mkdtempSync(join(tmpdir(), 'learnloop-full-cli-'));
const whyNot = process.getuid?.() !== 0 ? 'not root: cannot mount a tmpfs' : undefined;
if (whyNot !== undefined) console.warn(`CLI on a full disk skipped: ${whyNot}`);

const db = join(mountPoint, 'db');
const observations = join(tmpdir(), `learnloop-full-cli-${process.pid}.jsonl`);
const runRecords = join(tmpdir(), `learnloop-full-cli-runs-${process.pid}.jsonl`);

beforeAll(() => {
  if (whyNot !== undefined) return;
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  expect(cli('templates', 'register', 'a@v1', '--db', db, '--create').status).toBe(0);
  writeFileSync(observations, '{"run_id":"r1","template_id":"a@v1","outcome":"OUTCOME_PASS"}\n');
  const record = { run_id: 'r1', bead: 'bd-1', template_name: 'a@v1', status: 'done', exit_code: 0, finished_at: '2026-03-02T10:10:00Z' };
  writeFileSync(runRecords, `${JSON.stringify(record)}\n`);
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(mountPoint, 'filler')}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // dd exits non-zero when the disk is full: that is the point.
  }
});
afterAll(() => {
  if (whyNot === undefined) execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  rmSync(mountPoint, { recursive: true, force: true });
  rmSync(observations, { force: true });
  rmSync(runRecords, { force: true });
});

describe.skipIf(whyNot !== undefined)('CLI writes on a full disk (2 MB tmpfs)', () => {
  test.each([
    [['templates', 'register', 'zz@v1']],
    [['import', observations]],
    [['import', observations, '--json']],
    [['import', 'runs', runRecords]],
  ])('%j exits 1 with one line (LL_STORAGE_FULL), prints no result, and writes nothing', (args) => {
    const r = cli(...args, '--db', db);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(ownLines(r.stderr), r.stderr).toEqual([expect.stringMatching(/^learnloop: RESOURCE_EXHAUSTED: disk full: .*\(LL_STORAGE_FULL\)$/)]);
    // Reads still work, and show nothing of the failed write.
    const list = cli('templates', 'list', '--db', db, '--json');
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((t: { templateId: string }) => t.templateId)).toEqual(['a@v1']);
    expect(cli('export', '--db', db).stdout).not.toContain('"r1"');
  });

  test.each([
    ['serve', (folder: string, port: number) => ['serve', '--db', folder, '--port', String(port)]],
    ['templates register --create', (folder: string) => ['templates', 'register', 'a@v1', '--db', folder, '--create']],
    ['import --create', (folder: string) => ['import', observations, '--db', folder, '--create']],
  ])('%s on a new folder: exit 1 with one line (LL_STORAGE_FULL), no crash, no folder left', async (_, args) => {
    const folder = join(mountPoint, 'fresh', 'db');
    const r = cli(...args(folder, await freePort()));
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(1);
    expect(ownLines(r.stderr), r.stderr).toEqual([expect.stringMatching(/^learnloop: RESOURCE_EXHAUSTED: disk full: cannot create the store .*\(LL_STORAGE_FULL\)$/)]);
    expect(existsSync(join(mountPoint, 'fresh'))).toBe(false);
  });

  test('an existing folder with no store on a full disk is refused before LMDB touches it', () => {
    const empty = join(mountPoint, 'empty');
    mkdirSync(empty);
    for (const args of [['scores'], ['templates', 'register', 'a@v1', '--create']]) {
      const r = cli(...args, '--db', empty);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBeGreaterThan(0);
      expect(readdirSync(empty)).toEqual([]);
    }
    rmSync(empty, { recursive: true });
  });

  test('a folder left with an empty data file (as a creation cut short leaves it) is refused, not crashed on, and left as it was', async () => {
    const left = join(mountPoint, 'left');
    mkdirSync(left);
    writeFileSync(join(left, 'data.mdb'), '');
    const read = cli('scores', '--db', left);
    expect(read.signal, read.stderr).toBeNull();
    expect(read.status, read.stderr).toBe(2);
    expect(ownLines(read.stderr)).toEqual([expect.stringContaining('no learnloop store there')]);
    const serve = cli('serve', '--db', left, '--port', String(await freePort()));
    expect(serve.signal, serve.stderr).toBeNull();
    expect(serve.status, serve.stderr).toBe(1);
    expect(ownLines(serve.stderr)).toEqual([expect.stringMatching(/disk full: cannot create the store .*\(LL_STORAGE_FULL\)$/)]);
    expect(readdirSync(left)).toEqual(['data.mdb']);
    rmSync(left, { recursive: true });
  });
});
