import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { serveOnFreePort } from '../helpers/serve.js';
import { tmpDir } from '../helpers/tmp.js';

const run = promisify(execFile);

/** The README's Quick start section, and its fenced code blocks in order. */
function quickStart(): Array<{ lang: string; code: string; after: string }> {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)![1]!;
  const blocks: Array<{ lang: string; code: string; after: string }> = [];
  const fence = /```(\w+)\n([\s\S]*?)```/g;
  let prev = 0;
  for (let m; (m = fence.exec(section)); prev = fence.lastIndex) blocks.push({ lang: m[1]!, code: m[2]!, after: section.slice(prev, m.index) });
  return blocks;
}

test("the README's quick start runs as written in a fresh clone on a fresh server", async () => {
  const blocks = quickStart();
  // The first block installs and starts: CI has installed already, so only its start command runs.
  const [install] = blocks;
  expect(install!.code).toMatch(/^npm ci && npm start\b/);
  const cli = blocks.find((b) => b.lang === 'sh' && /from another shell/.test(b.after))!;
  const ts = blocks.find((b) => b.lang === 'ts')!;
  expect(cli.code).toMatch(/npx learnloop recommend/);

  // A fresh clone of this commit, with the installed dependencies and build of this checkout.
  const clone = join(tmpDir('learnloop-clone-'), 'learnloop');
  await run('git', ['clone', '--quiet', PACKAGE_ROOT, clone]);
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(clone, 'node_modules'));
  symlinkSync(join(PACKAGE_ROOT, 'dist'), join(clone, 'dist'));

  // `npm start` as written; the environment moves it to a free port (./data is the clone's).
  const env = { ...process.env, LEARNLOOP_PORT: '0' };
  const { addr } = await serveOnFreePort('npm', ['start'], { cwd: clone, env });
  const clientEnv = { ...process.env, LEARNLOOP_ADDR: addr };

  const shell = spawnSync('bash', ['-euo', 'pipefail', '-c', cli.code], { cwd: clone, env: clientEnv, encoding: 'utf8', timeout: 120_000 });
  expect(shell.status, shell.stderr).toBe(0);
  expect(shell.stdout).toMatch(/^chosen: bug-fix@v[12]/m);
  expect(shell.stdout).toMatch(/^recorded; posterior now/m);
  // The scorecard (read from the clone's ./data beside the running server) counts the run.
  expect(shell.stdout).toMatch(/^bug-fix@v[12]\s+1\s/m);

  // The TypeScript snippet, as an ES module inside the clone (so `learnloop` resolves to it).
  const node = spawnSync(process.execPath, ['--input-type=module', '-e', ts.code], { cwd: clone, env: clientEnv, encoding: 'utf8', timeout: 60_000 });
  expect(node.status, node.stderr).toBe(0);
}, 180_000);
