import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/compose.js';
import { observationEvents } from '../helpers/events.js';

/**
 * Opens `db` as the servers did and checks that its live derived state equals a rebuild from its
 * log, that no run is in the log twice, and (when given) how many observations it holds.
 */
export async function expectLiveEqualsRebuild(db: string, expected: { observations?: number } = {}): Promise<void> {
  const store = await openStore(db, { policy: loadConfig({}, { db }).policy });
  try {
    const runIds = (await observationEvents(store)).map((e) => e.content.runId);
    expect(new Set(runIds).size).toBe(runIds.length);
    if (expected.observations !== undefined) expect(runIds.length).toBe(expected.observations);
    const live = await store.derivedSnapshot();
    await store.rebuild();
    expect(await store.derivedSnapshot()).toEqual(live);
  } finally {
    await store.close();
  }
}
