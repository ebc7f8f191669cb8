/** The adapter-neutral form of derived state, so live state, a rebuild and another adapter compare equal. */
import { DERIVED_GROUPS as GROUPS, type DerivedChange } from '../bandit/index.js';

/** A derived snapshot's name, checked: it names a file in a folder store. */
export function snapshotName(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) throw new RangeError(`a derived snapshot's name is lower-case letters, digits and '-': got ${JSON.stringify(name)}`);
  return name;
}

/**
 * A derived snapshot's body, whole or as its pieces in order: a reader that makes one piece by piece
 * (the dashboard) hands the pieces over as they come, so it answers other calls in between.
 */
export type SnapshotBody = Uint8Array | AsyncIterable<Uint8Array>;

/** A snapshot body whole (for an adapter that stores it in one value). */
export async function wholeBody(body: SnapshotBody): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces);
}

export type DerivedSnapshot = Record<string, Array<[unknown, unknown]>>;

/** Groups records by kind, each sorted by key (compared as JSON, the same in every adapter). */
export function canonicalSnapshot(head: number, records: Iterable<{ kind: DerivedChange['kind']; key: unknown; value: unknown }>): DerivedSnapshot {
  const out: DerivedSnapshot = { head: [['head', head]] };
  for (const group of Object.values(GROUPS)) out[group] = [];
  for (const r of records) out[GROUPS[r.kind]]!.push([r.key, r.value]);
  for (const group of Object.values(GROUPS)) {
    out[group] = out[group]!.map(([k, v]) => [JSON.stringify(k), k, v] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, k, v]) => [k, v]);
  }
  return out;
}
