import { LmdbStore, MemoryStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { storeContract } from './contract.js';

storeContract('LMDB', {
  create: (policy) => LmdbStore.open(tmpDir(), { policy, noSync: true }),
  reopen: async (store, policy) => {
    await store.close();
    return LmdbStore.open(store.location, { policy, noSync: true });
  },
});

storeContract('memory', { create: (policy) => MemoryStore.open({ policy }) });
