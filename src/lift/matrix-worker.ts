/** A worker thread of `bench lift --matrix --jobs n`: runs the cells it is handed (see runMatrixInWorkers). */
import { workerData } from 'node:worker_threads';
import { runCell, type MatrixCell, type MatrixCellResult, type MatrixWorkerData } from './matrix.js';
import { serveTasks } from './worker-pool.js';

const run = workerData as MatrixWorkerData;
serveTasks<MatrixCell, MatrixCellResult>((cell) => runCell(run.tables[cell.table]!, cell, run));
