/** `learnloop scores`: per-template scorecards for a segment, from --db. */
import type { Command } from 'commander';
import { print, withApp, withSettings } from '../context.js';
import { NO_DATA, rateText } from '../../reports/metrics.js';
import { fixed, pct, table } from '../format.js';
import type { Scorecard } from '../../service/learnloop.js';

/** New − parent pass rate in points with its interval, e.g. "+62.5 (+17.4 to +83.1) vs t@v1". */
function versusText(v: Scorecard['vsParent']): string {
  if (v === undefined) return '';
  if (v.parent.n === 0 || v.child.n === 0) return `no judged runs to compare with ${v.parentTemplateId}`;
  const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
  return `${pts(v.change.estimate)} (${pts(v.change.low)} to ${pts(v.change.high)}) vs ${v.parentTemplateId}`;
}

export function registerScores(program: Command): void {
  withSettings(program.command('scores').description('per-template scorecards for a segment'), ['db'])
    .option('--task-class <class>', 'task class (default: all)')
    .option('--repo <repo>', 'repository (default: all)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const cards = await withApp(opts, (app) => app.learnloop.scores(opts.taskClass ?? '', opts.repo ?? ''));
      // JSON shows the evidence level by its label too, as every other output does.
      const json = cards.map((c) => ({ ...c, posterior: { ...c.posterior, evidenceLevel: c.evidenceLabel } }));
      print(opts.json === true, json, () =>
        table(
          ['template', 'runs', 'judged', 'pass rate', 'first-try pass', 'posterior pass rate (95% CI)', 'posterior expected reward (95% CI)', 'evidence', 'retry', 'timeout', 'median s', 'vs parent (pass rate, 95% CI)'],
          cards.map(({ metrics: m, ...c }) => [
            c.templateId,
            m.runs,
            m.judged,
            rateText(m.passRate, m.judged),
            rateText(m.firstTryPassRate, m.judgedTasks),
            `${pct(c.posterior.passRate ?? 0)} (${pct(c.posterior.passRateLow ?? 0, 0)}–${pct(c.posterior.passRateHigh ?? 0, 0)})`,
            `${pct(c.posterior.mean)} (${pct(c.posterior.ciLow, 0)}–${pct(c.posterior.ciHigh, 0)})`,
            c.evidenceLabel,
            rateText(m.retryRate, m.tasks),
            rateText(m.timeoutRate, m.runs),
            m.runs > 0 ? fixed(m.medianDurationSeconds, 0) : NO_DATA,
            versusText(c.vsParent),
          ]),
        ),
      );
    });
}
