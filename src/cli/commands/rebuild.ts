/** `learnloop rebuild`: recompute all derived state from the event log. */
import type { Command } from 'commander';
import { openStore } from '../../compose.js';
import { configFrom, print, requireStore, withSettings } from '../context.js';

export function registerRebuild(program: Command): void {
  withSettings(program.command('rebuild').description('recompute all derived state from the event log'), ['db'])
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const config = configFrom(opts);
      await requireStore(config.dbPath, opts);
      const started = performance.now();
      const store = await openStore(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
      try {
        const events = await store.rebuild();
        const seconds = (performance.now() - started) / 1000;
        print(opts.json === true, { events, seconds, eventsPerSecond: events / seconds }, () =>
          `rebuilt derived state from ${events} events in ${seconds.toFixed(2)} s`,
        );
      } finally {
        await store.close();
      }
    });
}
