/**
 * The failure occurrences the dashboard keeps between builds (FailureOccurrences) are
 * failureOccurrences' own for every prefix of a growing list of rows, whatever order the rows come
 * in (late failures, an earlier first run) and when the lineage or window changes, also when saved
 * and made again from its state part-way.
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, expect } from 'vitest';
import { FailureOccurrences, failureOccurrences, type RunRow, type TemplateRow } from '../../src/reports/index.js';
import type { LmdbStore } from '../../src/store/index.js';
import { fixtureLog } from './fixture-log.js';

let store: LmdbStore;
let rows: RunRow[];
let templates: TemplateRow[];
beforeAll(async () => {
  const log = await fixtureLog();
  store = log.store;
  ({ rows, templates } = await log.data());
}, 60_000);
afterAll(async () => store?.close());

test.prop([fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 })], { numRuns: 25 })(
  'every prefix of the rows, in time order or not, gives failureOccurrences of that prefix (told the rows, or only the rows added)',
  (steps, inOrder, changeLineage, byAdded, seed) => {
    // The rows in time order (mostly only appended), or shuffled (late failures: everything made again).
    let x = seed;
    const order = inOrder ? [...rows].sort((a, b) => a.finishedAtMs - b.finishedAtMs) : [...rows].sort(() => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
    let kept = new FailureOccurrences();
    const grown: RunRow[] = [];
    let lineage = templates;
    for (const [i, step] of steps.entries()) {
      // Saved and made again from its state (as the dashboard's snapshot does) before the third step.
      if (i === 2) kept = byAdded ? FailureOccurrences.fromState(structuredClone(kept.state())) : FailureOccurrences.fromState(structuredClone(kept.state()), grown);
      const added = order.slice(grown.length, grown.length + step);
      grown.push(...added);
      if (changeLineage && i === 1) lineage = templates.map((t) => (t.parentTemplateId === '' ? t : { ...t, parentTemplateId: '' }));
      expect(byAdded ? kept.extend(added, () => grown, lineage, 14) : kept.of(grown, lineage, 14)).toEqual(failureOccurrences(grown, lineage, 14));
    }
  },
);
