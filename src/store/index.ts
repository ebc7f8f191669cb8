export { FOLDER_FORMAT, LmdbStore } from './lmdb-store.js';
export type { ObserveResult, RefinementRecord, RegisterInput, StatsRecord, StoreOptions, TemplateRecord } from './lmdb-store.js';
export type { DecisionEvent, LoggedEvent, ObservationEvent, ObserveContent, RefinementDecidedEvent, RefinementOpenedEvent, TemplateEvent } from './events.js';
export { segmentKeys } from './keys.js';
