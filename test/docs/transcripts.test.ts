import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { serveOnFreePort } from '../helpers/serve.js';
import { tmpDir } from '../helpers/tmp.js';

/**
 * The transcripts in docs/flywheel.md are real: every ```console block is a shell session whose `$ `
 * lines run, in order, in one fresh folder per `<!-- transcript: NAME -->` marker with a server on
 * it, and whose other lines are the output expected, exactly (Recommends name a request id, which
 * fixes the decision id and so the pick); a line `...` stands for any number of lines. `UPDATE_TRANSCRIPTS=1 npx vitest run test/docs/transcripts`
 * rewrites the outputs that differ, in place, after a deliberate change (trim long ones with `...`).
 */
const DOC = join(PACKAGE_ROOT, 'docs', 'flywheel.md');
const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');

interface Step {
  readonly command: string;
  readonly expected: string[];
}
interface Block {
  readonly transcript: string;
  readonly start: number; // line index of the block's first line inside the fence
  readonly end: number; // line index of the closing fence
  readonly steps: Step[];
}

function parse(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let transcript = '';
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- transcript: (\S+) -->$/.exec(lines[i]!);
    if (marker) transcript = marker[1]!;
    if (lines[i] !== '```console') continue;
    if (!transcript) throw new Error(`docs/flywheel.md:${i + 1}: a console block before any transcript marker`);
    const start = i + 1;
    let end = start;
    while (lines[end] !== '```') end++;
    const steps: Step[] = [];
    for (const line of lines.slice(start, end)) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else if (steps.length === 0) throw new Error(`docs/flywheel.md:${start + 1}: output before a command`);
      else steps.at(-1)!.expected.push(line);
    }
    blocks.push({ transcript, start, end, steps });
    i = end;
  }
  return blocks;
}

/** Whether actual output matches the expected lines, where `...` matches any run of lines. */
function matches(expected: readonly string[], actual: readonly string[]): boolean {
  const [head, ...rest] = expected;
  if (head === undefined) return actual.length === 0;
  if (head === '...') return actual.some((_, k) => matches(rest, actual.slice(k))) || matches(rest, []);
  return actual.length > 0 && actual[0] === head && matches(rest, actual.slice(1));
}

test('the transcripts in docs/flywheel.md are what the commands print', async () => {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  const blocks = parse(lines);
  expect(blocks.length).toBeGreaterThan(0);

  // `learnloop` on PATH is this checkout's bin.
  const binDir = tmpDir('learnloop-bin-');
  writeFileSync(join(binDir, 'learnloop'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(binDir, 'learnloop'), 0o755);

  const folders = new Map<string, { cwd: string; env: NodeJS.ProcessEnv }>();
  const mismatches: string[] = [];
  const rewritten = [...lines];
  // Rewrites go bottom-up so earlier blocks' line numbers stay valid.
  const replacements: Array<{ block: Block; body: string[] }> = [];

  for (const block of blocks) {
    let folder = folders.get(block.transcript);
    if (!folder) {
      const cwd = join(tmpDir('learnloop-transcript-'), block.transcript);
      mkdirSync(cwd);
      // The transcripts name fixtures by their path in the repository.
      symlinkSync(join(PACKAGE_ROOT, 'test'), join(cwd, 'test'));
      const { addr } = await serveOnFreePort(process.execPath, [BIN, 'serve', '--port', '0', '--db', './data'], { cwd });
      folder = { cwd, env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, LEARNLOOP_ADDR: addr, NO_COLOR: '1' } };
      folders.set(block.transcript, folder);
    }
    const body: string[] = [];
    for (const step of block.steps) {
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', step.command], { cwd: folder.cwd, env: folder.env, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) mismatches.push(`$ ${step.command}\nexited ${r.status}: ${r.stderr}`);
      const actual = r.stdout.replace(/\n$/, '').split('\n').filter((l, k, all) => !(all.length === 1 && l === ''));
      const same = matches(step.expected, actual);
      if (!same) mismatches.push(`$ ${step.command}\n--- documented\n${step.expected.join('\n')}\n--- printed\n${actual.join('\n')}`);
      // An update keeps outputs that still match, with their `...`; a changed one is written whole.
      body.push(`$ ${step.command}`, ...(same ? step.expected : actual));
    }
    replacements.push({ block, body });
  }

  if (process.env.UPDATE_TRANSCRIPTS === '1') {
    for (const { block, body } of replacements.reverse()) rewritten.splice(block.start, block.end - block.start, ...body);
    writeFileSync(DOC, rewritten.join('\n'));
    return;
  }
  expect(mismatches, mismatches.join('\n\n')).toEqual([]);
}, 300_000);
