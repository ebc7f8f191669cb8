export { FOLDER_FORMAT, FolderInUse, hasLmdbStore, LmdbStore } from './lmdb-store.js';
export { MemoryStore } from './memory-store.js';
export { hasPgStore, PgStore, redact as redactPgUrl } from './postgres/pg-store.js';
export { UnusableStore } from './port.js';
export type { Plan, Planner, StateView, Store, StoreOptions } from './port.js';
export type { DerivedSnapshot, SnapshotBody } from './snapshot.js';
