/**
 * The dashboard's fold and last model, kept beside the log (Store.loadSnapshot and saveSnapshot,
 * through the source) so that a restart reads only the events logged after it, and answers its
 * first page from the last model (marked stale) while it catches up. The log stays the source of
 * truth: a snapshot that is missing, unreadable, of another format, learnloop version or policy,
 * or not of this log (its last event differs) is ignored, and the log is folded from the start.
 *
 * Layout: frames, each its length (uint32, little-endian) and a V8-serialised value: the head
 * (format, version, policy, the fold's position and the model, small), the fold's state without its
 * columns, then each column of its rows and decision join. The first page needs only the head; the
 * first build decodes the fold a column at a time, so the server answers in between.
 */
import { deserialize, serialize } from 'node:v8';
import type { PolicyConfig } from '../bandit/index.js';
import { packageVersion } from '../paths.js';
import type { FoldState, LogFold } from './fold.js';
import type { DashboardModel } from './model.js';
import type { DashboardSource } from './source.js';

/** Bumped whenever what a snapshot keeps changes shape or meaning. */
const FORMAT = 1;

interface Head {
  readonly format: number;
  readonly version: string;
  readonly policy: string;
  /** The fold's last event, and when it was logged: tells this log from another of the same length. */
  readonly seq: number;
  readonly atMs: number;
  readonly model: DashboardModel;
}

export interface Snapshot {
  readonly seq: number;
  readonly model: DashboardModel;
  /** Decodes the fold's state (rejects when that part is corrupt). */
  readonly fold: () => Promise<FoldState>;
}

const keyOf = (policy: PolicyConfig) => ({ format: FORMAT, version: packageVersion(), policy: JSON.stringify(policy) });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

type Columns = Record<string, readonly unknown[]>;

/** A snapshot of `fold`, whose last build gave `model` (synchronous: the fold cannot move meanwhile). */
export function encodeSnapshot(policy: PolicyConfig, fold: LogFold, model: DashboardModel): { seq: number; body: Uint8Array } {
  const { rows, joiner, ...rest } = fold.state();
  const { invalid, ...joined } = joiner;
  const columns = [...Object.entries(rows).map(([k, v]) => ['rows', k, v] as const), ...Object.entries(joined).map(([k, v]) => ['joiner', k, v] as const)];
  const values = [
    { ...keyOf(policy), seq: rest.head, atMs: rest.headAtMs, model } satisfies Head,
    { ...rest, invalid, columns: columns.map(([group, name]) => [group, name]) },
    ...columns.map(([, , v]) => v),
  ];
  const frames = values.flatMap((v) => {
    const bytes = serialize(v);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length, 0);
    return [length, bytes];
  });
  return { seq: rest.head, body: Buffer.concat(frames) };
}

/** The frames of a body; undefined when they do not fit it. */
function framesOf(body: Buffer): Buffer[] | undefined {
  const frames: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    if (at + 4 > body.length) return undefined;
    const end = at + 4 + body.readUInt32LE(at);
    if (end > body.length) return undefined;
    frames.push(body.subarray(at + 4, end));
    at = end;
  }
  return frames;
}

/** The source's snapshot, when there is one this log and this learnloop can use. */
export async function readSnapshot(source: DashboardSource): Promise<Snapshot | undefined> {
  const found = await source.readSnapshot?.().catch(() => undefined);
  if (found === undefined) return undefined;
  const frames = framesOf(Buffer.from(found.body.buffer, found.body.byteOffset, found.body.byteLength));
  if (frames === undefined || frames.length < 2) return undefined;
  let h: Head;
  try {
    h = deserialize(frames[0]!) as Head;
  } catch {
    return undefined;
  }
  const key = keyOf(source.policy);
  if (typeof h !== 'object' || h === null || h.format !== key.format || h.version !== key.version || h.policy !== key.policy) return undefined;
  if (h.seq !== found.seq || h.model?.head !== found.seq || found.seq === 0) return undefined;
  // The log's event at the snapshot's head must be the one the fold saw last (not another log of the same length or longer).
  const [e] = await source.eventPage(found.seq, 1);
  if (e?.seq !== found.seq || e.atMs !== h.atMs) return undefined;
  const fold = async (): Promise<FoldState> => {
    const { columns, invalid, ...rest } = deserialize(frames[1]!) as Omit<FoldState, 'rows' | 'joiner'> & { invalid: number; columns: Array<['rows' | 'joiner', string]> };
    const rows: Columns = {};
    const joiner: Columns = {};
    for (const [i, [group, name]] of columns.entries()) {
      await nextTurn();
      (group === 'rows' ? rows : joiner)[name] = deserialize(frames[2 + i]!) as unknown[];
    }
    return { ...rest, rows: rows as unknown as FoldState['rows'], joiner: { ...joiner, invalid } as unknown as FoldState['joiner'] };
  };
  return { seq: found.seq, model: h.model, fold };
}
