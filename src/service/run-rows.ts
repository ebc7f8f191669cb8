/**
 * The log's observations as report rows, read incrementally: each call reads only the events
 * appended since the last, so `scores` and GetScores compute the shared definitions
 * (src/reports/metrics.ts) from the runs themselves without re-reading the whole log. Rows are
 * indexed by segment, and a segment's per-template metrics are kept until it gains a run, so a
 * repeated GetScores costs a lookup, not a pass over every run.
 */
import { groupBy, metricsOf, type Metrics } from '../reports/metrics.js';
import { runRowOf, type RunRow } from '../reports/rows.js';
import type { Store } from '../store/port.js';

/** Segment key: '' for a field means any value, as in GetScores. */
const key = (taskClass: string, repo: string) => `${taskClass}\u0000${repo}`;

export class RunRows {
  private readonly rows: RunRow[] = [];
  /** Rows per segment key, for the four ways a segment can be named (both, class only, repo only, neither). */
  private readonly bySegment = new Map<string, RunRow[]>();
  private readonly metrics = new Map<string, { runs: number; byTemplate: Map<string, Metrics> }>();
  private nextSeq = 0;
  /** Reads are chained, so two concurrent callers never append the same events twice. */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly partialReward?: number,
  ) {}

  private add(r: RunRow): void {
    for (const k of new Set([key(r.taskClass, r.repo), key(r.taskClass, ''), key('', r.repo), key('', '')])) {
      const list = this.bySegment.get(k) ?? [];
      list.push(r);
      this.bySegment.set(k, list);
    }
  }

  private async catchUp(): Promise<void> {
    const read = this.reading.then(async () => {
      for await (const e of this.store.events(this.nextSeq)) {
        this.nextSeq = e.seq + 1;
        if (e.type !== 'observation') continue;
        const r = runRowOf(e.observation);
        this.rows.push(r);
        this.add(r);
      }
    });
    // A failed read fails its caller; the next caller resumes from the last event read.
    this.reading = read.catch(() => undefined);
    await read;
  }

  /** Every observation in the log so far, in log order (callers must not mutate the list). */
  async all(): Promise<readonly RunRow[]> {
    await this.catchUp();
    return this.rows;
  }

  /** Metrics per template of a segment's runs ('' widens a field), up to date with the log. */
  async segmentMetrics(taskClass: string, repo: string): Promise<ReadonlyMap<string, Metrics>> {
    await this.catchUp();
    const k = key(taskClass, repo);
    const rows = this.bySegment.get(k) ?? [];
    const cached = this.metrics.get(k);
    if (cached !== undefined && cached.runs === rows.length) return cached.byTemplate;
    const byTemplate = new Map(groupBy(rows, (r) => r.templateId).map(([t, rs]) => [t, metricsOf(rs, this.partialReward)]));
    this.metrics.set(k, { runs: rows.length, byTemplate });
    return byTemplate;
  }
}
