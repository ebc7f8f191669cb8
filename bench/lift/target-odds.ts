/**
 * How likely issue 9's matrix target is to hold on a fresh draw of seeds (src/lift/target-odds.ts), for the leads a
 * matrix run measured, for those leads raised to a tie where learnloop is behind, and for every lead raised further.
 * Usage: node dist/bench/lift/target-odds.js [bench/results/matrix-targets.json]
 */
import { readFileSync } from 'node:fs';
import type { MatrixResult } from '../../src/lift/matrix.js';
import { holds, targetChance, targetComparisons, type TargetComparison } from '../../src/lift/target-odds.js';

const m = JSON.parse(readFileSync(process.argv[2] ?? 'bench/results/matrix-targets.json', 'utf8')) as MatrixResult;
const all = targetComparisons(m);
const half = (stat: TargetComparison['stat']) => all.filter((c) => c.stat === stat);
console.log(`${m.policyVersion}, ${m.seeds} seeds: ${all.length} comparisons in the target cells`);
console.log('\nComparisons holding with probability < 0.9 at the measured lead (lead, se, Φ(lead / se)):');
for (const c of all.filter((x) => holds(x) < 0.9)) console.log(`  ${c.cell} ${c.stat} vs ${c.baseline}: ${c.lead.toFixed(3)}, ${c.se.toFixed(3)}, ${holds(c).toFixed(2)}`);

console.log('\nChance, at most, that every comparison holds on a fresh draw of as many seeds:');
console.log('| leads | mean half | p10 half | whole target |\n| --- | --- | --- | --- |');
// A run made before the paired p10 intervals cannot judge its p10 half.
const judged = half('p10').length > 0;
const chance = (cs: readonly TargetComparison[], lead: (c: TargetComparison) => number, ok = true) => (ok ? targetChance(cs, lead).toFixed(4) : 'n/a');
const rows: Array<[string, (c: TargetComparison) => number]> = [
  ['as measured', (c) => c.lead],
  ['behind raised to a tie', (c) => Math.max(0, c.lead)],
  ...[0.01, 0.02, 0.03, 0.05, 0.1].map((d): [string, (c: TargetComparison) => number] => [`tie where behind, then every lead + ${d}`, (c) => Math.max(0, c.lead) + d]),
];
for (const [label, lead] of rows) console.log(`| ${label} | ${chance(half('mean'), lead)} | ${chance(half('p10'), lead, judged)} | ${chance(all, lead, judged)} |`);
