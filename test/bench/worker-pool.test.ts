import { describe, expect, test } from 'vitest';
import { runInWorkers, WorkerFailure } from '../../src/lift/worker-pool.js';

const url = new URL('../fixtures/workers/square.mjs', import.meta.url);
const tasks = [1, 2, 3, 4, 5, 6, 7, 8];
const square = (workerData: unknown, jobs = 3) => runInWorkers<number, number>({ url, workerData, tasks, jobs, label: (n) => `task ${n}` });

describe('runInWorkers', () => {
  test('returns the results in task order whatever order they finish in, and reports progress per task', async () => {
    const seen: number[] = [];
    const order = [7, 6, 5, 4, 3, 2, 1, 0];
    const results = await runInWorkers<number, number>({ url, workerData: {}, tasks, jobs: 3, order, label: String, onDone: (done, total) => (expect(total).toBe(8), seen.push(done)) });
    expect(results).toEqual(tasks.map((n) => n * n));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('more jobs than tasks, and no tasks at all', async () => {
    expect(await square({}, 20)).toEqual(tasks.map((n) => n * n));
    expect(await runInWorkers({ url, workerData: {}, tasks: [], jobs: 2, label: String })).toEqual([]);
  });

  test.each([
    ['throws', { failOn: 5, how: 'throw' }, /^a worker thread failed on task 5: cannot square 5$/],
    ['exits', { failOn: 5, how: 'exit' }, /^a worker thread exited with code 3 on task 5$/],
  ])('a worker that %s fails the run with a WorkerFailure naming the task, not a hang', async (_how, workerData, message) => {
    const run = square(workerData);
    await expect(run).rejects.toBeInstanceOf(WorkerFailure);
    await expect(run).rejects.toThrow(message);
  });
});
