import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { MatrixResult } from '../../src/lift/matrix.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { tmpDir } from '../helpers/tmp.js';

/** Writes the results folder and runs the compiled generator on it, into the folder's bench.md. */
function writeDoc(files: Record<string, unknown>): { status: number | null; stderr: string; doc: () => string } {
  const dir = tmpDir();
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(value));
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist', 'bench', 'lift', 'write-doc.js'), dir, join(dir, 'bench.md')], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, doc: () => readFileSync(join(dir, 'bench.md'), 'utf8') };
}

/** A whole matrix of one target cell, as this build records it: the shortfall carries its paired interval. */
const shortfall = { table: 't', k: 8, steps: 2000, baseline: 'greedy-score', stat: 'mean' as const, learnloop: 0.5, value: 0.6, low: 0.02, high: 0.18 };
const matrix: MatrixResult = {
  policyVersion: 'p/1',
  seeds: 100,
  tables: [{ name: 't', kind: 'synthetic', note: 'one table' }],
  cells: [
    {
      table: 't',
      arms: 8,
      steps: 2000,
      k: 8,
      seeds: 100,
      policies: {
        learnloop: { mean: 0.5, p10: 0.3, diffMean: 0, diffLow: 0, diffHigh: 0 },
        'greedy-score': { mean: 0.6, p10: 0.2, diffMean: 0.1, diffLow: 0.02, diffHigh: 0.18 },
      },
    },
  ],
  shortfalls: [shortfall],
  seconds: 1,
};

describe('bench/lift/write-doc.ts with the target cells rerun (matrix-targets.json)', () => {
  test('takes a rerun beside a whole matrix that records the same shortfalls with their intervals', () => {
    const r = writeDoc({ 'matrix.json': matrix, 'matrix-targets.json': matrix });
    expect(r.status, r.stderr).toBe(0);
    expect(r.doc()).toContain("t K=8 mean 0.500 < greedy-score 0.600 (+0.100 [0.020, 0.180], beyond the seeds). The baseline's lead is beyond the paired 95% interval");
  });

  test('takes a rerun beside a whole matrix from before the intervals were kept', () => {
    const { low: _l, high: _h, ...bare } = shortfall;
    const r = writeDoc({ 'matrix.json': { ...matrix, shortfalls: [bare] }, 'matrix-targets.json': matrix });
    expect(r.status, r.stderr).toBe(0);
    expect(r.doc()).toContain('(+0.100 [0.020, 0.180], beyond the seeds)');
  });

  test('refuses a rerun that lists other shortfalls, or other figures, than the matrix', () => {
    const other = writeDoc({ 'matrix.json': matrix, 'matrix-targets.json': { ...matrix, shortfalls: [{ ...shortfall, value: 0.61 }] } });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('matrix-targets.json lists other shortfalls than the matrix');
    const cell = matrix.cells[0]!;
    const moved = { ...cell, policies: { ...cell.policies, learnloop: { ...cell.policies['learnloop']!, p10: 0.31 } } };
    const figures = writeDoc({ 'matrix.json': matrix, 'matrix-targets.json': { ...matrix, cells: [moved] } });
    expect(figures.status).toBe(1);
    expect(figures.stderr).toContain("cell t K=8 2000 steps differs from the matrix's");
  });
});
