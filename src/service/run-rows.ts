/**
 * The log's observations as report rows, read incrementally: each call reads only the events
 * appended since the last, so `scores` and GetScores compute the shared definitions
 * (src/reports/metrics.ts) from the runs themselves without re-reading the whole log. Rows are
 * indexed by segment; a segment asked for once gets a tally per template that every later run in
 * it is added to, so GetScores costs O(templates in the segment) however many runs it has and
 * however fast Observes arrive (a recount per new run starved writes: issue 10).
 */
import { MetricsTally, type Metrics } from '../reports/metrics.js';
import { byString } from '../reports/rows.js';
import { runRowOf, type RunRow } from '../reports/rows.js';
import type { ArmStatus } from '../bandit/index.js';
import type { Store } from '../store/port.js';

/**
 * Events read, or runs tallied, between turns of the event loop: a first GetScores on a large log
 * reads all of it, and writes must keep running meanwhile (issue 10: reads never block writes).
 */
const SLICE = 2000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Segment key: '' for a field means any value, as in GetScores. */
const key = (taskClass: string, repo: string) => `${taskClass}\u0000${repo}`;

export class RunRows {
  private readonly rows: RunRow[] = [];
  /** Rows per segment key, for the four ways a segment can be named (both, class only, repo only, neither). */
  private readonly bySegment = new Map<string, RunRow[]>();
  /** Per segment key asked for, a tally per template ('(none)' for an empty id, as groupBy names it). */
  private readonly tallies = new Map<string, Map<string, MetricsTally>>();
  /** Segments whose tallies are still being filled from their earlier runs (callers wait for them). */
  private readonly filling = new Map<string, Promise<void>>();
  /** Each template's status as each registration set it, oldest first (reports read statuses as of a date). */
  private readonly statusChangesById = new Map<string, Array<{ atMs: number; status: ArmStatus }>>();
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
      const tallies = this.tallies.get(k);
      if (tallies !== undefined) this.tally(tallies, r);
    }
  }

  private tally(tallies: Map<string, MetricsTally>, r: RunRow): void {
    const id = r.templateId || '(none)';
    let t = tallies.get(id);
    if (t === undefined) tallies.set(id, (t = new MetricsTally(this.partialReward)));
    t.add(r);
  }

  private async catchUp(): Promise<void> {
    const read = this.reading.then(async () => {
      for (let more = true; more; ) {
        let n = 0;
        for await (const e of this.store.events(this.nextSeq)) {
          this.nextSeq = e.seq + 1;
          if (e.type === 'observation') {
            const r = runRowOf(e.observation);
            this.rows.push(r);
            this.add(r);
          } else if (e.type === 'template') {
            const changes = this.statusChangesById.get(e.templateId) ?? [];
            changes.push({ atMs: e.atMs, status: e.status });
            this.statusChangesById.set(e.templateId, changes);
          }
          if (++n === SLICE) break;
        }
        more = n === SLICE;
        if (more) await nextTurn();
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

  /** Each template's status changes in the log so far, oldest first (callers must not mutate them). */
  async statusChanges(): Promise<ReadonlyMap<string, ReadonlyArray<{ readonly atMs: number; readonly status: ArmStatus }>>> {
    await this.catchUp();
    return this.statusChangesById;
  }

  /** Metrics per template of a segment's runs ('' widens a field), up to date with the log, in template id order. */
  async segmentMetrics(taskClass: string, repo: string): Promise<ReadonlyMap<string, Metrics>> {
    await this.catchUp();
    const k = key(taskClass, repo);
    let tallies = this.tallies.get(k);
    if (tallies === undefined) {
      // From now on add() tallies the segment's new runs; the runs it has so far are folded in here.
      this.tallies.set(k, (tallies = new Map()));
      const rows = this.bySegment.get(k) ?? [];
      const held = rows.length;
      const filled = (async () => {
        for (let i = 0; i < held; i++) {
          this.tally(tallies, rows[i]!);
          if ((i + 1) % SLICE === 0) await nextTurn();
        }
      })();
      this.filling.set(k, filled);
      await filled;
      this.filling.delete(k);
    }
    await this.filling.get(k);
    return new Map([...tallies].sort(([a], [b]) => byString(a, b)).map(([id, t]) => [id, t.metrics()]));
  }
}
