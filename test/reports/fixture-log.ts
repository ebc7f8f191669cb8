/** The fixed fixture log behind the golden files: synthetic run records imported into a fresh store. */
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { importRuns } from '../../src/importers/import-runs.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { RefinementQueue, reportData } from '../../src/service/refinement-queue.js';
import { LmdbStore } from '../../src/store/index.js';
import { evidenceLabels, loadRules, type ReportInput } from '../../src/cli/commands/analytics.js';
import { tmpDir } from '../helpers/tmp.js';

export const RUNS_FILE = new URL('../fixtures/runs/synthetic-runs.jsonl', import.meta.url).pathname;
/** End of 2026-03-01 UTC: the report date of every golden file. */
export const AS_OF = Date.parse('2026-03-01T23:59:59.999Z');
/** The fixed clock the store and queue see (imports and refinement items are stamped with it). */
export const CLOCK = Date.parse('2026-03-02T08:00:00Z');
export const RULES = loadRules();

/** Imports the fixture into a fresh store, registers the lineage, opens refinement items. */
export async function fixtureLog(dir: string = tmpDir()): Promise<{ store: LmdbStore; ll: LearnLoop; queue: RefinementQueue; data: () => Promise<ReportInput> }> {
  const store = await LmdbStore.open(dir, { policy: DEFAULT_POLICY_CONFIG, noSync: true });
  const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => CLOCK });
  await ll.registerTemplate({ templateId: 'bug-fix@v1', parentTemplateId: '', status: 'active', description: 'first bug-fix prompt' });
  await ll.registerTemplate({ templateId: 'bug-fix@v2', parentTemplateId: 'bug-fix@v1', status: 'active', description: 'asks for a failing test first' });
  const summary = await importRuns(ll, [RUNS_FILE]);
  if (summary.skipped.length > 0) throw new Error(`fixture import skipped records: ${JSON.stringify(summary.skipped)}`);
  // The scan runs at the end of the report day, so the weekly report as of AS_OF lists its items.
  const queue = new RefinementQueue(store, DEFAULT_LIMITS, () => AS_OF);
  await queue.scan(AS_OF, RULES);
  return { store, ll, queue, data: async () => ({ ...(await reportData(store)), evidence: await evidenceLabels(ll) }) };
}
