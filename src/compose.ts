/**
 * The composition root: picks the store adapter from `--db` and wires the service on it. `serve`
 * and every command that opens a store come through here.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, isPostgresUrl, type Config } from './config.js';
import { LearnLoop } from './service/learnloop.js';
import { RefinementQueue } from './service/refinement-queue.js';
import { LmdbStore, MemoryStore, PgStore, type Store, type StoreOptions } from './store/index.js';

/** The application on one open store. */
export interface App {
  readonly store: Store;
  readonly learnloop: LearnLoop;
  readonly refinements: RefinementQueue;
}

const isUrl = (db: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(db);

/**
 * The outermost folder that opening the LMDB folder `db` would create (undefined when `db`
 * exists or is not a folder), so a start that fails can remove what it made.
 */
export function folderToCreate(db: string): string | undefined {
  if (db === 'memory:' || isUrl(db) || existsSync(db)) return undefined;
  let top = resolve(db);
  while (!existsSync(dirname(top)) && dirname(top) !== top) top = dirname(top);
  return top;
}

/**
 * Opens the store `db` names: `postgres://` or `postgresql://` URLs, `memory:` (nothing kept;
 * tests and benchmarks), or else an LMDB folder.
 * @throws ConfigError for a store this build cannot open.
 */
export async function openStore(db: string, options: StoreOptions): Promise<Store> {
  if (isPostgresUrl(db)) return PgStore.open(db, options);
  if (db === 'memory:') return MemoryStore.open(options);
  if (isUrl(db)) throw new ConfigError([`--db: unknown store ${JSON.stringify(db.split('://')[0] + '://')}; name a folder or a postgres:// URL`]);
  return LmdbStore.open(db, options);
}

/** The service and refinement queue on an open store. */
export function compose(store: Store, config: Pick<Config, 'limits'>, now: () => number = Date.now): App {
  const learnloop = new LearnLoop({ store, limits: config.limits, now });
  return { store, learnloop, refinements: new RefinementQueue(store, config.limits, now) };
}

/**
 * Opens `config.dbPath` and wires the application on it. `onPolicyChange: 'adopt'` is for
 * commands beside a running server: they use the policy the store was built with, so the numbers agree.
 */
export async function openApp(config: Config, options: Omit<StoreOptions, 'policy'> = {}): Promise<App> {
  return compose(await openStore(config.dbPath, { ...options, policy: config.policy }), config);
}
