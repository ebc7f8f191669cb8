/**
 * Key layout. Every sub-database lives in one LMDB environment so one transaction spans them.
 *
 *   events     seq (uint)                          -> LoggedEvent      source of truth, append-only
 *              0                                   -> msgpack's shared record structures (the
 *                                                     other databases keep theirs under a symbol key)
 *   meta       'head'                              -> last seq          derived
 *              'stateHead'                         -> last seq that is not a decision (read caches key on it)
 *              'templatesHead'                     -> last template event's seq (the template list cache keys on it)
 *              'policy'                            -> the PolicyConfig the derived state was computed under
 *              'format'                            -> folder format (FOLDER_FORMAT in lmdb-store.ts)
 *              'refinementsHead'                   -> last refinement event's seq (a plan that scanned the items re-checks it)
 *   templates  idKey(templateId)                   -> TemplateRecord    derived
 *   segments   segmentKey(taskClass, repo) 0x00 part(templateId)
 *                                                  -> StatsRecord with its key fields; derived ('' = any).
 *                                                     Raw byte keys, so one segment is one key range.
 *   runs       idKey(runId)                        -> RunRecord         derived (idempotency)
 *   decisions  idKey(decisionId)                   -> DecisionRecord    derived
 *   requests   idKey(requestId)                    -> decisionId        derived (idempotency)
 *   refinements idKey(refinementId)               -> RefinementRecord  derived
 *   stats      (format 2 and before: [templateId, taskClass, repo]; emptied when a folder moves to format 3)
 *
 * LMDB refuses keys over 1,978 bytes, so every key is built to fit whatever the ids: a part longer
 * than KEY_PART_BYTES is replaced by its SHA-256 (the record keeps the ids themselves).
 */
import { createHash } from 'node:crypto';
import type { StatsKey } from '../bandit/index.js';

export const DB_NAMES = ['events', 'meta', 'templates', 'segments', 'runs', 'decisions', 'requests', 'refinements', 'stats'] as const;
export type DbName = (typeof DB_NAMES)[number];
export const DERIVED_DBS: readonly DbName[] = ['meta', 'templates', 'segments', 'runs', 'decisions', 'requests', 'refinements'];

/** Longest key part kept as it is: three parts and separators stay under LMDB's 1,978 bytes. */
export const KEY_PART_BYTES = 900;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A single id as a key: itself when it fits, else [0, its hash] (a number never equals a string key). */
export function idKey(id: string): string | [number, string] {
  return Buffer.byteLength(id) <= KEY_PART_BYTES ? id : [0, sha256(id)];
}

/** JSON text of a key part, or '#' and its hash when too long (JSON text never starts with '#' nor holds a 0x00 byte). */
function part(value: unknown): string {
  const json = JSON.stringify(value);
  return Buffer.byteLength(json) <= KEY_PART_BYTES ? json : `#${sha256(json)}`;
}

const segmentPrefix = (taskClass: string, repo: string) => `${part([taskClass, repo])}\u0000`;

/** The key of one template's stats in one segment. */
export function statsKey([templateId, taskClass, repo]: StatsKey): Buffer {
  return Buffer.from(segmentPrefix(taskClass, repo) + part(templateId));
}

/** The key range holding every template's stats in one segment. */
export function segmentRange(taskClass: string, repo: string): { start: Buffer; end: Buffer } {
  const prefix = segmentPrefix(taskClass, repo);
  return { start: Buffer.from(prefix), end: Buffer.from(`${prefix.slice(0, -1)}\u0001`) };
}
