/**
 * The in-memory adapter: the same log and projection as on disk, nothing durable. For tests and
 * benchmarks that want the service without a folder, and as the contract suite's reference.
 */
import {
  armEvidenceOf,
  projectAll,
  Unavailable,
  type ArmEvidence,
  type Context,
  type DecisionEvent,
  type DerivedChange,
  type DerivedReader,
  type LoggedEvent,
  type ObservationEvent,
  type PolicyConfig,
  type RefinementRecord,
  type StatsKey,
  type StatsRecord,
  type TemplateRecord,
} from '../bandit/index.js';
import type { Planner, StateView, Store, StoreOptions } from './port.js';
import { canonicalSnapshot, snapshotName, wholeBody, type DerivedSnapshot, type SnapshotBody } from './snapshot.js';

const statsId = (key: StatsKey) => JSON.stringify(key);

/** Records are copied in and out, so callers cannot change stored state by mutating what they got. */
const copy = <T>(value: T): T => structuredClone(value);

export class MemoryStore implements Store {
  readonly location = 'memory';
  private log: LoggedEvent[] = [];
  private derived = MemoryStore.emptyDerived();
  /** Commits run one at a time: each plans on the state the one before left. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly snapshots = new Map<string, { seq: number; body: Uint8Array }>();
  private readonly reader: DerivedReader = {
    template: (id) => this.derived.template.get(id) as TemplateRecord | undefined,
    stats: (key) => this.derived.stats.get(statsId(key))?.[1] as StatsRecord | undefined,
    refinement: (id) => this.derived.refinement.get(id) as RefinementRecord | undefined,
  };

  constructor(readonly policy: PolicyConfig) {}

  static async open(options: StoreOptions): Promise<MemoryStore> {
    return new MemoryStore(options.policy);
  }

  private static emptyDerived() {
    return {
      template: new Map<string, unknown>(),
      /** By JSON key: [key, record]. */
      stats: new Map<string, [StatsKey, unknown]>(),
      run: new Map<string, unknown>(),
      decision: new Map<string, unknown>(),
      request: new Map<string, unknown>(),
      refinement: new Map<string, unknown>(),
    };
  }

  async head(): Promise<number> {
    return this.log.length;
  }

  async template(templateId: string): Promise<TemplateRecord | undefined> {
    return copy(this.reader.template(templateId));
  }

  async unknownTemplates(templateIds: readonly string[]): Promise<string[]> {
    return templateIds.filter((id) => !this.derived.template.has(id));
  }

  async run(runId: string): Promise<(ObservationEvent & LoggedEvent) | undefined> {
    const rec = this.derived.run.get(runId) as { seq: number } | undefined;
    return rec === undefined ? undefined : (copy(this.log[rec.seq - 1]) as ObservationEvent & LoggedEvent);
  }

  async decision(decisionId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
    const rec = this.derived.decision.get(decisionId) as { seq: number } | undefined;
    return rec === undefined ? undefined : (copy(this.log[rec.seq - 1]) as DecisionEvent & LoggedEvent);
  }

  async decisionForRequest(requestId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
    const rec = this.derived.request.get(requestId) as { decisionId: string } | undefined;
    return rec === undefined ? undefined : this.decision(rec.decisionId);
  }

  async refinement(refinementId: string): Promise<RefinementRecord | undefined> {
    return copy(this.reader.refinement(refinementId));
  }

  async openRefinementFor(templateId: string): Promise<RefinementRecord | undefined> {
    return (await this.refinements()).find((r) => r.templateId === templateId && r.status === 'open');
  }

  async templates(): Promise<readonly TemplateRecord[]> {
    return [...this.derived.template.keys()].sort().map((id) => copy(this.derived.template.get(id) as TemplateRecord));
  }

  async stats(key: StatsKey): Promise<StatsRecord | undefined> {
    return copy(this.reader.stats(key));
  }

  async statsForSegment(taskClass: string, repo: string): Promise<Array<{ templateId: string; stats: StatsRecord }>> {
    return [...this.derived.stats.values()]
      .filter(([[, tc, r]]) => tc === taskClass && r === repo)
      .map(([[templateId], stats]) => ({ templateId, stats: copy(stats as StatsRecord) }))
      .sort((a, b) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0));
  }

  async armEvidence(templateIds: readonly string[], context: Context): Promise<ArmEvidence[]> {
    return templateIds.map((id) => armEvidenceOf(id, context, this.reader, this.policy));
  }

  async *events(fromSeq = 1): AsyncGenerator<LoggedEvent> {
    for (let i = Math.max(1, fromSeq) - 1; i < this.log.length; i++) yield copy(this.log[i]!);
  }

  async eventPage(fromSeq: number, limit: number): Promise<LoggedEvent[]> {
    const from = Math.max(1, fromSeq) - 1;
    return this.log.slice(from, from + Math.max(0, limit)).map(copy);
  }

  async refinements(): Promise<RefinementRecord[]> {
    return [...this.derived.refinement.keys()].sort().map((id) => copy(this.derived.refinement.get(id) as RefinementRecord));
  }

  async commit<T>(atMs: number, plan: Planner<T>): Promise<{ result: T; events: LoggedEvent[] }> {
    if (this.closed) throw new Unavailable('the store is closed');
    const run = this.queue.then(async () => {
      const planned = await plan(this as StateView);
      let seq = this.log.length;
      // Copied before anything is stored: a record that cannot be cloned fails the commit, not half of it.
      const events = planned.events.map((body) => copy({ ...body, seq: ++seq, atMs }) as LoggedEvent);
      const changes = projectAll(events, this.reader, this.policy).map(copy);
      this.log.push(...events);
      this.put(changes);
      return { result: planned.result, events: copy(events) };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private put(changes: readonly DerivedChange[]): void {
    for (const c of changes) {
      if (c.kind === 'stats') this.derived.stats.set(statsId(c.key), [c.key, c.value]);
      else this.derived[c.kind].set(c.key, c.value);
    }
  }

  async rebuild(): Promise<number> {
    const run = this.queue.then(() => {
      this.derived = MemoryStore.emptyDerived();
      for (const event of this.log) this.put(projectAll([event], this.reader, this.policy));
      return this.log.length;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async derivedSnapshot(): Promise<DerivedSnapshot> {
    const records: Array<{ kind: DerivedChange['kind']; key: unknown; value: unknown }> = [];
    for (const [kind, map] of Object.entries(this.derived) as Array<[DerivedChange['kind'], Map<string, unknown>]>) {
      for (const [key, value] of map) {
        if (kind === 'stats') {
          const [k, v] = value as [StatsKey, unknown];
          records.push({ kind, key: k, value: copy(v) });
        } else records.push({ kind, key, value: copy(value) });
      }
    }
    return canonicalSnapshot(this.log.length, records);
  }

  async loadSnapshot(name: string): Promise<{ seq: number; body: Uint8Array } | undefined> {
    const s = this.snapshots.get(snapshotName(name));
    return s === undefined ? undefined : { seq: s.seq, body: s.body.slice() };
  }

  async saveSnapshot(name: string, seq: number, body: SnapshotBody): Promise<void> {
    const checked = snapshotName(name);
    this.snapshots.set(checked, { seq, body: (await wholeBody(body)).slice() });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
