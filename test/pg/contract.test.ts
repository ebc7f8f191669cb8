import { PgStore } from '../../src/store/index.js';
import { storeContract } from '../store/contract.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

describePg('PostgreSQL adapter', () => {
  storeContract('PostgreSQL', {
    create: async (policy) => PgStore.open(await freshPgDatabase(), { policy }),
    reopen: async (store, policy) => {
      await store.close();
      return PgStore.open(store.location, { policy });
    },
  });
});
