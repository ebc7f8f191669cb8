import type { TestProject } from 'vitest/node';
import { startPgCluster, type PgCluster } from '../../bench/pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the PostgreSQL the tests use ('' when there is none). */
    pgUrl: string;
    /** Why there is none. */
    pgMissing: string;
  }
}

/**
 * The PostgreSQL tests' database server: $LEARNLOOP_TEST_PG_URL when set, else a throwaway
 * cluster started here (so `npm test` works wherever PostgreSQL is installed) and removed after.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.LEARNLOOP_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    project.provide('pgMissing', '');
    return undefined;
  }
  let cluster: PgCluster;
  try {
    cluster = await startPgCluster({ fsync: false });
  } catch (e) {
    project.provide('pgUrl', '');
    project.provide('pgMissing', (e as Error).message.split('\n')[0]!);
    return undefined;
  }
  project.provide('pgUrl', cluster.url);
  project.provide('pgMissing', '');
  return () => cluster.destroy();
}
