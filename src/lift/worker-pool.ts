/**
 * Independent, deterministic tasks spread over worker threads: each idle worker takes the next task,
 * and results come back in task order, whatever order they finish in.
 */
import { parentPort, Worker } from 'node:worker_threads';

/** A worker threw, exited with a task in hand, or answered with a message that could not be read: the run is stopped and says which task. */
export class WorkerFailure extends Error {}

/** What the pool sends a worker, and what the worker answers. */
interface TaskMessage<T> {
  readonly index: number;
  readonly task: T;
}
interface ResultMessage<R> {
  readonly index: number;
  readonly result: R;
}

export interface PoolRun<T> {
  /** The worker's module; it calls {@link serveTasks} on load. */
  readonly url: URL;
  /** Given to every worker once (structured clone: typed arrays and plain objects, no functions). */
  readonly workerData: unknown;
  readonly tasks: readonly T[];
  /** Worker threads, at most one per task. */
  readonly jobs: number;
  /** Indices of `tasks` in the order to hand them out (default: as listed); longest first shortens the tail. */
  readonly order?: readonly number[];
  /** Names a task in a failure message. */
  readonly label: (task: T) => string;
  readonly onDone?: (done: number, total: number) => void;
}

/**
 * Runs every task on `jobs` worker threads.
 * @returns the results in the order of `tasks`
 * @throws WorkerFailure when a worker throws or exits before answering; the other workers are stopped
 */
export function runInWorkers<T, R>(run: PoolRun<T>): Promise<R[]> {
  const total = run.tasks.length;
  const results = new Array<R>(total);
  const queue = [...(run.order ?? run.tasks.keys())];
  if (total === 0) return Promise.resolve(results);
  return new Promise<R[]>((resolve, reject) => {
    const workers: Worker[] = [];
    let done = 0;
    let failed = false;
    const fail = (message: string) => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(new WorkerFailure(message));
    };
    for (let j = 0; j < Math.min(run.jobs, total); j++) {
      const worker = new Worker(run.url, { workerData: run.workerData });
      workers.push(worker);
      let current: number | undefined;
      const on = () => (current === undefined ? '' : ` on ${run.label(run.tasks[current]!)}`);
      const next = () => {
        current = queue.shift();
        if (current === undefined) void worker.terminate();
        else worker.postMessage({ index: current, task: run.tasks[current]! } satisfies TaskMessage<T>);
      };
      worker.on('message', (m: ResultMessage<R>) => {
        results[m.index] = m.result;
        done++;
        run.onDone?.(done, total);
        next();
        if (done === total) resolve(results);
      });
      worker.on('error', (err) => fail(`a worker thread failed${on()}: ${err.message}`));
      worker.on('messageerror', (err) => fail(`a worker thread's answer${on()} could not be read: ${err.message}`));
      // An exit with a task in hand (process.exit, a crash without an error event) would otherwise wait forever.
      worker.on('exit', (code) => {
        if (current !== undefined) fail(`a worker thread exited with code ${code}${on()}`);
      });
      next();
    }
  });
}

/** The worker side of {@link runInWorkers}: answers each task with `fn(task)`; a throw fails the run. */
export function serveTasks<T, R>(fn: (task: T) => R): void {
  if (parentPort === null) throw new Error('serveTasks runs in a worker thread');
  const port = parentPort;
  port.on('message', (m: TaskMessage<T>) => port.postMessage({ index: m.index, result: fn(m.task) } satisfies ResultMessage<R>));
}
