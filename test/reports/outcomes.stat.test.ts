/**
 * The scoreboard's change claims by simulation: how often it claims a change on a log where nothing
 * changes (its false-alarm rate), and how often it finds the designed refinement's effect (power).
 * Truths come from the generator (designed-outcomes.ts); tolerances from standard errors.
 */
import { describe, expect, test } from 'vitest';
import { loadRules } from '../../src/cli/commands/analytics.js';
import { outcomesReport, SCOREBOARD_ALPHA } from '../../src/reports/index.js';
import { designedOutcomes, END, START } from './designed-outcomes.js';

const RULES = loadRules();
const N = 300;
const Z = 3.09;
const se = (p: number, n: number) => Math.sqrt((p * (1 - p)) / n);

const claims = (seed: string, refined: boolean) => {
  const f = designedOutcomes(seed, refined);
  // No decisions: the lift's bootstrap is not under test here.
  return outcomesReport({ ...f, decisions: [], rules: RULES, sinceMs: START, untilMs: END }).metrics;
};

describe('scoreboard (statistical)', () => {
  test(`false alarms: a log where nothing changes claims a credible change in at most ${SCOREBOARD_ALPHA * 100}% of reports (${N} simulated)`, () => {
    let alarms = 0;
    for (let s = 0; s < N; s++) if (claims(`flat ${s}`, false).some((m) => m.verdict !== 'no credible change')) alarms++;
    expect(alarms / N).toBeLessThan(SCOREBOARD_ALPHA + Z * se(SCOREBOARD_ALPHA, N));
    console.info(`scoreboard, ${N} no-change logs: ${alarms} reports with a credible change (${((100 * alarms) / N).toFixed(1)}%)`);
  });

  test(`power: the designed refinement's three effects are each found in at least 80% of reports (${N} simulated)`, () => {
    const found = { pass_rate: 0, retry_rate: 0, repeat_share: 0 };
    for (let s = 0; s < N; s++) for (const m of claims(`refined ${s}`, true)) if (m.verdict === 'better') found[m.metric]++;
    for (const [metric, k] of Object.entries(found)) expect(k / N, metric).toBeGreaterThan(0.8 - Z * se(0.8, N));
    console.info(`scoreboard, ${N} designed logs: credible improvement found — pass ${found.pass_rate / N}, retry ${found.retry_rate / N}, repeats ${found.repeat_share / N}`);
  });
});
