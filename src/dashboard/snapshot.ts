/**
 * The dashboard's fold and last model, kept beside the log (Store.loadSnapshot and saveSnapshot,
 * through the source) so that a restart reads only the events logged after it, and answers its
 * first page from the last model (marked stale) while it catches up. The log stays the source of
 * truth: a snapshot that is missing, unreadable, of another format, learnloop version or policy,
 * or not of this log (its last event differs) is ignored, and the log is folded from the start.
 */
import { deserialize, serialize } from 'node:v8';
import type { PolicyConfig } from '../bandit/index.js';
import { packageVersion } from '../paths.js';
import type { FoldState, LogFold } from './fold.js';
import type { DashboardModel } from './model.js';
import type { DashboardSource } from './source.js';

/** Bumped whenever what a fold keeps changes shape or meaning. */
const FORMAT = 1;

interface Stored {
  readonly format: number;
  readonly version: string;
  readonly policy: string;
  readonly fold: FoldState;
  readonly model: DashboardModel;
}

export interface Snapshot {
  readonly seq: number;
  readonly fold: FoldState;
  readonly model: DashboardModel;
}

const keyOf = (policy: PolicyConfig) => ({ format: FORMAT, version: packageVersion(), policy: JSON.stringify(policy) });

/** A snapshot of `fold`, whose last build gave `model` (synchronous: the fold cannot move meanwhile). */
export function encodeSnapshot(policy: PolicyConfig, fold: LogFold, model: DashboardModel): { seq: number; body: Uint8Array } {
  const stored: Stored = { ...keyOf(policy), fold: fold.state(), model };
  return { seq: fold.foldedHead, body: serialize(stored) };
}

/** The source's snapshot, when there is one this log and this learnloop can use. */
export async function readSnapshot(source: DashboardSource): Promise<Snapshot | undefined> {
  const found = await source.readSnapshot?.().catch(() => undefined);
  if (found === undefined) return undefined;
  let s: Stored;
  try {
    s = deserialize(found.body) as Stored;
  } catch {
    return undefined;
  }
  const key = keyOf(source.policy);
  if (typeof s !== 'object' || s === null || s.format !== key.format || s.version !== key.version || s.policy !== key.policy) return undefined;
  if (s.fold?.head !== found.seq || s.model?.head !== found.seq || found.seq === 0) return undefined;
  // The log's event at the snapshot's head must be the one the fold saw last (not another log of the same length or longer).
  const [e] = await source.eventPage(found.seq, 1);
  if (e?.seq !== found.seq || e.atMs !== s.fold.headAtMs) return undefined;
  return { seq: found.seq, fold: s.fold, model: s.model };
}
