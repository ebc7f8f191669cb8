/** `learnloop report lift --db DIR`: off-policy lift of the deployed policy over uniform, from the log. */
import type { Command } from 'commander';
import { joinDecisions, liftOverUniform, type LiftEstimate, type LogJoin } from '../../ope/index.js';
import { openStore } from '../../compose.js';
import { configFrom, requireStore, UserError, withSettings } from '../context.js';
import { table } from '../format.js';

const pp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

export function renderLift(est: LiftEstimate, join: LogJoin): string {
  const rows = (['ips', 'snips', 'dr'] as const).map((e) => [
    e.toUpperCase(),
    `${(est.uniform[e].estimate * 100).toFixed(1)}% [${(est.uniform[e].ciLow * 100).toFixed(1)}, ${(est.uniform[e].ciHigh * 100).toFixed(1)}]`,
    `${pp(est.lift[e].estimate)} [${pp(est.lift[e].ciLow)}, ${pp(est.lift[e].ciHigh)}]`,
  ]);
  return [
    `${est.decisions} decisions with outcomes (${join.unobserved} without, ${join.invalid} with unusable propensities)`,
    `deployed policy expected reward: ${(est.deployed.estimate * 100).toFixed(1)}% [${(est.deployed.ciLow * 100).toFixed(1)}, ${(est.deployed.ciHigh * 100).toFixed(1)}] (on-policy mean)`,
    `effective sample size for uniform: ${est.effectiveSampleSize.toFixed(1)}; mean importance weight ${est.meanWeight.toFixed(2)} (expected 1.00${
      Math.abs(est.meanWeight - 1) > 0.2 ? '; far from 1: the log barely covers some candidates, read IPS/SNIPS with care' : ''
    })`,
    '',
    table(['estimator', 'uniform expected reward (95% CI)', 'lift, points (95% CI)'], rows),
    '',
    verdict(est),
  ].join('\n');
}

/**
 * One plain sentence a reader can act on, from the doubly robust estimate (it stays unbiased when
 * the propensities are right, and its reward model covers candidates the log barely ran).
 */
export function verdict(est: LiftEstimate): string {
  const l = est.lift.dr;
  const points = (x: number) => `${Math.abs(x * 100).toFixed(1)} points`;
  const how = l.ciLow > 0 ? `beat uniform by ${points(l.estimate)}` : l.ciHigh < 0 ? `trailed uniform by ${points(l.estimate)}` : `is not distinguishable from uniform (${pp(l.estimate)} points)`;
  return `verdict: the deployed policy ${how}, 95% interval ${pp(l.ciLow)} to ${pp(l.ciHigh)} points (doubly robust); ${est.effectiveSampleSize.toFixed(0)} effective decisions of ${est.decisions}.`;
}

export function registerReportLift(program: Command): void {
  const report = program.commands.find((c) => c.name() === 'report');
  if (report === undefined) throw new Error('registerReportLift: the report command group must exist');
  withSettings(report.command('lift').description("off-policy lift of the deployed policy over uniform (IPS, SNIPS, doubly robust) from the log's decisions and outcomes"), ['db'])
    // Accepted and ignored, unchecked: scripts written when the intervals were a bootstrap still run.
    .option('--resamples <n>', 'accepted for compatibility and ignored: the intervals are closed-form, nothing is resampled')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => {
      const config = configFrom(opts);
      await requireStore(config.dbPath, opts);
      // 'adopt': read the store under its own policy, never rebuild it beside a running server.
      const store = await openStore(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
      let join: LogJoin;
      try {
        join = await joinDecisions(store.events(), store.policy);
      } finally {
        await store.close();
      }
      if (join.decisions.length === 0) throw new UserError(`no decisions with observed outcomes in ${config.dbPath}`);
      const est = liftOverUniform(join.decisions);
      const out = { ...est, unobserved: join.unobserved, invalid: join.invalid };
      process.stdout.write((opts.json === true ? JSON.stringify(out, null, 2) : renderLift(est, join)) + '\n');
    });
}
