/** The dashboard's source as it was when the log ended at `head`: for measuring and testing builds after new events. */
import type { DashboardSource } from '../../src/dashboard/source.js';

export function sourceUpTo(source: DashboardSource, head: number): DashboardSource {
  return {
    ...source,
    head: async () => Math.min(head, await source.head()),
    eventPage: async (fromSeq, limit) => (fromSeq > head ? [] : source.eventPage(fromSeq, Math.min(limit, head - fromSeq + 1))),
  };
}
