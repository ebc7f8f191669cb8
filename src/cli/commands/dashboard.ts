/** `learnloop dashboard --db DIR`: the dashboard over a folder, without a gRPC server beside it. */
import type { Command } from 'commander';
import { startDashboard } from '../../dashboard/server.js';
import { learnLoopSource } from '../../dashboard/source.js';
import { openApp } from '../../compose.js';
import { assertDashboardGuarded, listenError } from '../../server/startup.js';
import { createLogger } from '../../server/logging.js';
import { configFrom, requireStore, UserError, withSettings } from '../context.js';
import { DEFAULT_RULES_FILE, loadRules, parseAsOf } from './analytics.js';

export function registerDashboard(program: Command): void {
  withSettings(
    program.command('dashboard').description('serve the dashboard (pages and JSON) for a folder, without a gRPC server; --http-port 0 picks a free port'),
    ['db', 'host', 'token', 'http-port', 'log-level'],
    { token: 'Bearer token required on every dashboard page, JSON URL, action and /metrics (or open it once as /?token=<token>); empty = open to anyone who can reach the port.' },
  )
    .option('--as-of <date>', 'fix the dashboard date: YYYY-MM-DD (end of that UTC day) or ISO time (UTC without a zone); default now')
    .option('--rules <file>', 'remediation rules file', DEFAULT_RULES_FILE)
    .option('--read-only', 'refuse accept, reject and retire')
    .action(async (opts: Record<string, unknown>) => {
      const config = configFrom(opts);
      await requireStore(config.dbPath, opts);
      assertDashboardGuarded(config.host, config.token);
      const rules = (() => {
        try {
          return loadRules(String(opts.rules));
        } catch (err) {
          throw new UserError((err as Error).message);
        }
      })();
      const asOfMs = opts.asOf === undefined ? undefined : parseAsOf(opts.asOf);
      // 'adopt': read the store under its own policy, never rebuild it beside a running server.
      const app = await openApp(config, { onPolicyChange: 'adopt' });
      const store = app.store;
      const { source, actions } = learnLoopSource(app);
      const dash = await startDashboard({
        source,
        ...(opts.readOnly === true ? {} : { actions }),
        rules,
        host: config.host,
        port: config.httpPort,
        token: config.token,
        log: createLogger(config.logLevel),
        ...(asOfMs === undefined ? {} : { asOfMs }),
      }).catch(async (err: unknown) => {
        await store.close();
        throw listenError('serve the dashboard', config.host, config.httpPort, err);
      });
      process.stdout.write(`learnloop dashboard for ${store.location} at ${dash.url}/${config.token === '' ? '' : ' (open it once as /?token=<token>)'}\n`);
      const stop = () => {
        dash.close().then(
          () => store.close().then(() => process.exit(0)),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
