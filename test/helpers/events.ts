import type { LoggedEvent, ObservationEvent } from '../../src/bandit/index.js';
import type { Store } from '../../src/store/index.js';

/** The whole log, in order. */
export async function allEvents(store: Pick<Store, 'events'>): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for await (const e of store.events()) out.push(e);
  return out;
}

/** The observation events of the log, in order. */
export async function observationEvents(store: Pick<Store, 'events'>): Promise<Array<ObservationEvent & LoggedEvent>> {
  return (await allEvents(store)).filter((e): e is ObservationEvent & LoggedEvent => e.type === 'observation');
}
