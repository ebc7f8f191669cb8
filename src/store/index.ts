export { LmdbStore } from './lmdb-store.js';
export type { ObserveResult, RegisterInput, StatsRecord, StoreOptions, TemplateRecord } from './lmdb-store.js';
export type { DecisionEvent, LoggedEvent, ObservationEvent, ObserveContent, TemplateEvent } from './events.js';
export { segmentKeys } from './keys.js';
