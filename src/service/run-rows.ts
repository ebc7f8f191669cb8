/**
 * The log's observations as report rows, read incrementally: each call reads only the events
 * appended since the last, so `scores` and GetScores compute the shared definitions
 * (src/reports/metrics.ts) from the runs themselves without re-reading the whole log.
 */
import { runRowOf, type RunRow } from '../reports/rows.js';
import type { Store } from '../store/port.js';

export class RunRows {
  private readonly rows: RunRow[] = [];
  private nextSeq = 0;
  /** Reads are chained, so two concurrent callers never append the same events twice. */
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store) {}

  /** Every observation in the log so far, in log order (callers must not mutate the list). */
  async all(): Promise<readonly RunRow[]> {
    const read = this.reading.then(async () => {
      for await (const e of this.store.events(this.nextSeq)) {
        this.nextSeq = e.seq + 1;
        if (e.type === 'observation') this.rows.push(runRowOf(e.observation));
      }
    });
    // A failed read fails its caller; the next caller resumes from the last event read.
    this.reading = read.catch(() => undefined);
    await read;
    return this.rows;
  }
}
