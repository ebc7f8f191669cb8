import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PACKAGE_ROOT, PROTO_DIR } from '../../src/paths.js';
import { serveOnFreePort } from '../helpers/serve.js';
import { tmpDir } from '../helpers/tmp.js';

// Debian's python3 with python3-grpcio and python3-grpc-tools (CI installs them).
const PYTHON = '/usr/bin/python3';
const hasPythonGrpc = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools'], { stdio: 'ignore' }).status === 0;
const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');

/** `learnloop serve` as a child process on a free port. */
const serve = (db: string) => serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', db]);

function python(addr: string, mode: 'learn' | 'scores'): string {
  const out = mkdtempSync(join(tmpdir(), 'learnloop-py-'));
  const r = spawnSync(PYTHON, [join(__dirname, 'python_client.py'), addr, PROTO_DIR, out, mode], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python client failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout.trim();
}

// Outside CI a developer machine may lack Debian's python3-grpcio; in CI it is installed and required.
describe.skipIf(!hasPythonGrpc && !process.env.CI)('a client in another language, compiled from the proto', () => {
  test('learns the 80% template, borrows it for a new repository, and keeps every score across kill -9', async () => {
    expect(existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is built (npm ci or npm run build)').toBe(true);
    const db = tmpDir();
    const first = await serve(db);
    const before = python(first.addr, 'learn');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const second = await serve(db);
    expect(python(second.addr, 'scores')).toBe(before);
    const scores = JSON.parse(before) as Record<string, { runs: number }>;
    expect(Object.values(scores).map((s) => s.runs)).toEqual([100, 100, 100]);
  });
});
