/**
 * The dashboard's fold and last model, kept beside the log (Store.loadSnapshot and saveSnapshot,
 * through the source) so that a restart reads only the events logged after it, and answers its
 * first page from the last model (marked stale) while it catches up. The log stays the source of
 * truth: a snapshot that is missing, unreadable, of another format, learnloop version or policy,
 * or not of this log (its last event differs) is ignored, and the log is folded from the start.
 *
 * Layout: frames, each its length (uint32, little-endian) and a V8-serialised value: the head
 * (format, version, policy, the fold's position and the model, small), the fold's small state and
 * the names of its parts (LogFold.snapshotParts: the rows' columns, the decision join, the tallies),
 * then each part: its value with every array longer than PIECE replaced by a mark, then those
 * arrays in pieces of PIECE values. The first page needs only the head; the first build decodes the
 * fold a piece at a time.
 *
 * Both ways run a piece per turn of the event loop, so the server (and a gRPC server beside it)
 * answers between pieces: writing a snapshot of a million events is some hundred pieces, each a few
 * milliseconds, handed to the store as they are made (Store.saveSnapshot takes them in order).
 */
import { deserialize, serialize } from 'node:v8';
import type { PolicyConfig } from '../bandit/index.js';
import { packageVersion } from '../paths.js';
import type { FoldState, LogFold } from './fold.js';
import type { DashboardModel } from './model.js';
import type { DashboardSource } from './source.js';

/** Bumped whenever what a snapshot keeps changes shape or meaning. */
const FORMAT = 10;
/** Most values of a column in one frame: one frame is encoded or decoded per turn of the event loop. */
const PIECE = 20_000;

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
  /**
   * Decodes the fold's state (rejects when that part is corrupt). Parts named by `later` are left as
   * functions that decode them when first called (then throwing when they are corrupt).
   */
  readonly fold: (later?: (part: string) => boolean) => Promise<FoldState>;
}

const keyOf = (policy: PolicyConfig) => ({ format: FORMAT, version: packageVersion(), policy: JSON.stringify(policy) });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A slice of a plain array as stored: numbers as float64 (exact), strings with few distinct values
 * as an index into their list (a million rows repeat a few templates, classes, repositories and
 * reasons), anything else as it is.
 */
type Stored = { numbers: Float64Array } | { strings: readonly string[]; index: Uint32Array } | { values: readonly unknown[] };

function store(values: readonly unknown[]): Stored {
  if (values.every((v) => typeof v === 'number')) return { numbers: Float64Array.from(values as number[]) };
  if (values.every((v) => typeof v === 'string')) {
    const at = new Map<string, number>();
    const index = new Uint32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as string;
      let k = at.get(v);
      if (k === undefined) at.set(v, (k = at.size));
      index[i] = k;
    }
    if (at.size <= values.length / 4) return { strings: [...at.keys()], index };
  }
  return { values };
}

/** The pieces of an array, whole again: a Float64Array when every piece is numbers (read like an array of them, made in one copy). */
function unstore(pieces: readonly Stored[], length: number): ArrayLike<unknown> {
  if (pieces.every((s) => 'numbers' in s)) {
    const out = new Float64Array(length);
    let at = 0;
    for (const s of pieces as Array<{ numbers: Float64Array }>) {
      out.set(s.numbers, at);
      at += s.numbers.length;
    }
    return out;
  }
  const out: unknown[] = [];
  for (const s of pieces) {
    if ('numbers' in s) for (const v of s.numbers) out.push(v);
    else if ('strings' in s) for (const k of s.index) out.push(s.strings[k]);
    else for (const v of s.values) out.push(v);
  }
  return out;
}

/** Marks, in a part's frame, an array stored in the frames after it: its kind (a typed array's name, or 'Array'), length and pieces. */
const SPLIT = '\u0000split';
type Split = { [SPLIT]: string; length: number; pieces: number };
type Typed = Float64Array | Uint32Array | Int32Array | Uint8Array;
const TYPED: Record<string, new (n: number) => Typed> = { Float64Array, Uint32Array, Int32Array, Uint8Array };

const isSplit = (v: unknown): v is Split => typeof v === 'object' && v !== null && !Array.isArray(v) && SPLIT in v;

/** `v` with every array longer than PIECE (at any depth in arrays and plain objects) replaced by a mark, and those arrays in order. */
function skeleton(v: unknown, big: Array<readonly unknown[] | Typed>): unknown {
  const mark = (a: readonly unknown[] | Typed, kind: string): Split => {
    big.push(a);
    return { [SPLIT]: kind, length: a.length, pieces: Math.ceil(a.length / PIECE) };
  };
  if (v instanceof Float64Array || v instanceof Uint32Array || v instanceof Int32Array || v instanceof Uint8Array) return v.length > PIECE ? mark(v, v.constructor.name) : v;
  if (Array.isArray(v)) return v.length > PIECE ? mark(v, 'Array') : v.map((x) => skeleton(x, big));
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, skeleton(x, big)]));
  return v;
}

function frame(value: unknown): Buffer[] {
  const bytes = serialize(value);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length, 0);
  return [length, bytes];
}

/**
 * A snapshot of `fold`, whose last build gave `model`: its pieces in order, each made when asked for
 * and after a turn of the event loop. The fold must not move until the last piece is made (the
 * server runs no build meanwhile).
 */
export function snapshotOf(policy: PolicyConfig, fold: LogFold, model: DashboardModel): { seq: number; body: AsyncIterable<Uint8Array> } {
  const { state, parts } = fold.snapshotParts();
  const body = async function* () {
    yield* frame({ ...keyOf(policy), seq: state.head, atMs: state.headAtMs, model } satisfies Head);
    yield* frame({ state, parts: parts.map((p) => p.name) });
    for (const p of parts) {
      await nextTurn();
      const big: Array<readonly unknown[] | Typed> = [];
      yield* frame(skeleton(p.value(), big));
      for (const a of big) {
        for (let from = 0; from < a.length; from += PIECE) {
          await nextTurn();
          const to = Math.min(a.length, from + PIECE);
          yield* frame(Array.isArray(a) ? store(a.slice(from, to)) : (a as Typed).subarray(from, to));
        }
      }
    }
  };
  return { seq: state.head, body: body() };
}

/** {@link snapshotOf} whole (tests, the benchmark). */
export async function encodeSnapshot(policy: PolicyConfig, fold: LogFold, model: DashboardModel): Promise<{ seq: number; body: Uint8Array }> {
  const { seq, body } = snapshotOf(policy, fold, model);
  const pieces: Uint8Array[] = [];
  for await (const p of body) pieces.push(p);
  return { seq, body: Buffer.concat(pieces) };
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

/** The array a mark stands for, from its pieces' decoded frames. */
function whole(v: Split, pieces: readonly unknown[]): ArrayLike<unknown> {
  const kind = v[SPLIT];
  if (kind === 'Array') {
    const values = unstore(pieces as Stored[], v.length);
    if (values.length !== v.length) throw new RangeError('a snapshot array has another length than its mark');
    return values;
  }
  const Kind = TYPED[kind];
  if (Kind === undefined) throw new RangeError(`a snapshot array of unknown kind ${kind}`);
  const values = new Kind(v.length);
  let to = 0;
  for (const piece of pieces as Typed[]) {
    values.set(piece, to);
    to += piece.length;
  }
  return values;
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
  const fold = async (later: (part: string) => boolean = () => false): Promise<FoldState> => {
    let at = 2;
    const frameAt = (i: number) => {
      const f = frames[i];
      if (f === undefined) throw new RangeError('the snapshot ends inside its parts');
      return f;
    };
    const next = async () => {
      await nextTurn();
      return deserialize(frameAt(at++)) as unknown;
    };
    /** A part that is one array in pieces, decoded when first asked for: its pieces' frames are only stepped over now. */
    const decodeLater = (v: unknown): (() => unknown) | undefined => {
      if (!isSplit(v)) return undefined;
      const from = at;
      at += v.pieces;
      if (at > frames.length) throw new RangeError('the snapshot ends inside its parts');
      let value: unknown;
      let done = false;
      return () => {
        if (!done) {
          const pieces = Array.from({ length: v.pieces }, (_, i) => deserialize(frameAt(from + i)) as unknown);
          value = whole(v, pieces);
          done = true;
        }
        return value;
      };
    };
    // A part's frame with each mark replaced by the array stored in the frames after it, in order.
    const fill = async (v: unknown): Promise<unknown> => {
      if (isSplit(v)) {
        const pieces: unknown[] = [];
        for (let i = 0; i < v.pieces; i++) pieces.push(await next());
        return whole(v, pieces);
      }
      if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (const x of v) out.push(await fill(x));
        return out;
      }
      if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = await fill(x);
        return out;
      }
      return v;
    };
    const { state, parts } = deserialize(frames[1]!) as { state: FoldState['state']; parts: string[] };
    const decoded: Record<string, unknown> = {};
    for (const name of parts) {
      const v = await next();
      decoded[name] = (later(name) ? decodeLater(v) : undefined) ?? (await fill(v));
    }
    if (at !== frames.length) throw new RangeError('the snapshot has frames after its parts');
    return { state, parts: decoded };
  };
  return { seq: found.seq, model: h.model, fold };
}
