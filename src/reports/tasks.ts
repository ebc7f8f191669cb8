/**
 * Tasks as numbers, for tallies that track each task's state (metrics.ts, trend.ts): a key is hashed
 * once per run by the numbering the tallies share, and each tally keeps its tasks in typed arrays,
 * which a million runs' tallies copy (for the dashboard's snapshot) in the time of a memory copy.
 */

/** Task keys numbered 0, 1, 2, … in the order first met. */
export class TaskNumbers {
  private map: Map<string, number> | undefined;
  private keys: string[] | undefined;

  /**
   * @param given keys already numbered, in number order, or a function that gives them (called when
   * they are first needed: a restored dashboard numbers no task until a new run comes); their map is
   * made when first needed
   */
  constructor(private given: string[] | (() => readonly string[]) = []) {}

  private list(): string[] {
    if (this.keys === undefined) {
      const g = this.given;
      this.keys = typeof g === 'function' ? [...g()] : g;
      this.given = [];
    }
    return this.keys;
  }

  numberOf(key: string): number {
    const keys = this.list();
    const m = (this.map ??= new Map(keys.map((k, i) => [k, i])));
    let n = m.get(key);
    if (n === undefined) {
      m.set(key, (n = keys.length));
      keys.push(key);
    }
    return n;
  }

  /** Every key, in number order. */
  get all(): readonly string[] {
    return this.list();
  }
}

/**
 * What a TaskTable holds: its slots as they are (a task's number, or -1 for none, and its bits and
 * time), so that restoring it is a copy of three arrays rather than every task inserted again.
 */
export interface TaskTableState {
  readonly size: number;
  readonly ids: Int32Array;
  readonly bits: Uint8Array;
  readonly times: Float64Array | null;
}

const EMPTY = -1;

/** Whether a typed array has its memory to itself (not a view into a larger buffer, such as a decoded frame's). */
export const own = (a: ArrayBufferView): boolean => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;

/** A set of task numbers with a byte (and optionally a time) each: open addressing over typed arrays. */
export class TaskTable {
  size = 0;
  /** Whether the last slot() added its task. */
  inserted = false;
  private ids: Int32Array;
  /** Per slot: the task's bits, and its time when the table keeps times (read after slot(): a slot moves when the table grows). */
  bits: Uint8Array;
  times: Float64Array | null;

  constructor(withTimes: boolean, capacity = 16) {
    this.ids = new Int32Array(capacity).fill(EMPTY);
    this.bits = new Uint8Array(capacity);
    this.times = withTimes ? new Float64Array(capacity) : null;
  }

  /** The slot of task `id`, added (bits 0, time 0) when absent. */
  slot(id: number): number {
    if (2 * (this.size + 1) > this.ids.length) this.grow();
    const mask = this.ids.length - 1;
    for (let i = Math.imul(id, 0x9e3779b1) & mask; ; i = (i + 1) & mask) {
      const at = this.ids[i]!;
      if (at === id) {
        this.inserted = false;
        return i;
      }
      if (at === EMPTY) {
        this.ids[i] = id;
        this.size++;
        this.inserted = true;
        return i;
      }
    }
  }

  private grow(): void {
    const { ids, bits, times } = this;
    this.ids = new Int32Array(ids.length * 2).fill(EMPTY);
    this.bits = new Uint8Array(ids.length * 2);
    this.times = times === null ? null : new Float64Array(ids.length * 2);
    this.size = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === EMPTY) continue;
      const j = this.slot(ids[i]!);
      this.bits[j] = bits[i]!;
      if (this.times !== null) this.times[j] = times![i]!;
    }
  }

  state(): TaskTableState {
    return { size: this.size, ids: this.ids.slice(), bits: this.bits.slice(), times: this.times?.slice() ?? null };
  }

  /**
   * The table a state was taken of. It takes over the state's arrays that have their memory to
   * themselves (a decoded snapshot's large ones: no copy), so the state must not be used again.
   * @throws RangeError when the state is not a table's (a slot count that is not a power of two, or columns of other lengths)
   */
  static fromState(s: TaskTableState): TaskTable {
    const n = s.ids.length;
    if (n < 2 || (n & (n - 1)) !== 0 || s.bits.length !== n || (s.times !== null && s.times.length !== n) || !(s.size >= 0 && 2 * s.size <= n)) {
      throw new RangeError('not a task table state');
    }
    const t = new TaskTable(false, 1);
    t.ids = own(s.ids) ? s.ids : new Int32Array(s.ids);
    t.bits = own(s.bits) ? s.bits : new Uint8Array(s.bits);
    t.times = s.times === null ? null : own(s.times) ? s.times : new Float64Array(s.times);
    t.size = s.size;
    return t;
  }
}
