import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { serveOnFreePort } from '../helpers/serve.js';
import { tmpDir } from '../helpers/tmp.js';

const run = promisify(execFile);
test('the packed tarball installs into an empty project and its CLI runs (--version, serve, recommend, import runs, bench lift)', async () => {
  expect(existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is built (npm test builds it)').toBe(true);
  const packDir = tmpDir('learnloop-pack-');
  // --ignore-scripts: dist/ is built already, and rebuilding it here would race other test files reading it.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: PACKAGE_ROOT });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const project = tmpDir('learnloop-install-');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true }));
  // The dependencies come from npm's cache when CI's `npm ci` has filled it.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, filename)], { cwd: project, timeout: 300_000 });

  const bin = join(project, 'node_modules', '.bin', 'learnloop');
  const version = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version as string;
  expect((await run(bin, ['--version'], { cwd: project })).stdout.trim()).toBe(version);

  const { addr } = await serveOnFreePort(bin, ['serve', '--port', '0', '--db', join(project, 'data')]);
  const rec = await run(bin, ['recommend', '--addr', addr, '--task-class', 'docs', '--candidates', 'docs@v1,docs@v2', '--json'], { cwd: project });
  expect(['docs@v1', 'docs@v2']).toContain((JSON.parse(rec.stdout) as { chosenTemplateId: string }).chosenTemplateId);

  // Files the CLI reads at run time ship too: the remediation rules (import runs scans with them) ...
  const fixtures = join(PACKAGE_ROOT, 'test', 'fixtures', 'athena');
  const imported = await run(bin, ['import', 'runs', join(fixtures, 'run__athena-web__bd-1nn.json'), '--db', join(project, 'offline'), '--create', '--json'], { cwd: project });
  expect((JSON.parse(imported.stdout) as { applied: number }).applied).toBe(1);
  // ... and the benchmark's default outcome data.
  const bench = await run(bin, ['bench', 'lift', '--arms', '3', '--steps', '20', '--seeds', '1'], { cwd: project });
  expect(bench.stdout).toMatch(/thompson-flat/);
}, 360_000);
