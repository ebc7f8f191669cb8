/** `learnloop scores`: per-template scorecards for a segment, from --db. */
import type { Command } from 'commander';
import { print, withApp, withSettings } from '../context.js';
import { fixed, pct, table } from '../format.js';

export function registerScores(program: Command): void {
  withSettings(program.command('scores').description('per-template scorecards for a segment'))
    .option('--task-class <class>', 'task class (empty = all)', '')
    .option('--repo <repo>', 'repository (empty = all)', '')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const cards = await withApp(opts, (app) => app.learnloop.scores(opts.taskClass, opts.repo));
      print(opts.json === true, cards, () =>
        table(
          ['template', 'runs', 'pass rate', 'posterior', '95% CI', 'evidence', 'retry', 'timeout', 'mean s'],
          cards.map((c) => [
            c.templateId,
            c.counters.runs,
            pct(c.passRate),
            pct(c.posterior.mean),
            `${pct(c.posterior.ciLow, 0)}–${pct(c.posterior.ciHigh, 0)}`,
            c.posterior.evidenceLevel,
            pct(c.retryRate),
            pct(c.timeoutRate),
            fixed(c.meanDurationSeconds, 0),
          ]),
        ),
      );
    });
}
