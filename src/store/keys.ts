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
 *   templates  templateId                          -> TemplateRecord    derived
 *   stats      [templateId, taskClass, repo]       -> StatsRecord       derived ('' = any)
 *   runs       runId                               -> RunRecord         derived (idempotency)
 *   decisions  decisionId                          -> DecisionRecord    derived
 *   requests   requestId                           -> decisionId        derived (idempotency)
 *   refinements refinementId                      -> RefinementRecord  derived
 */
export const DB_NAMES = ['events', 'meta', 'templates', 'stats', 'runs', 'decisions', 'requests', 'refinements'] as const;
export type DbName = (typeof DB_NAMES)[number];
export const DERIVED_DBS: readonly DbName[] = ['meta', 'templates', 'stats', 'runs', 'decisions', 'requests', 'refinements'];
