/** `learnloop serve`: the gRPC server (and the dashboard with --http-port), stopped gracefully on SIGTERM or SIGINT. */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { startServer } from '../../server/index.js';
import { createLogger } from '../../server/logging.js';
import { configFrom, requireStore, UserError, withSettings } from '../context.js';
import { DEFAULT_RULES_FILE, loadRules } from './analytics.js';

export function registerServe(program: Command): void {
  withSettings(program.command('serve').description('run the gRPC server, and the dashboard beside it with --http-port'))
    .option('--rules <file>', "remediation rules file (the dashboard's failure view)", DEFAULT_RULES_FILE)
    .action(async (opts) => {
      const config = configFrom(opts);
      // serve makes the folder on first start (the quick start's ./data), but not through a file.
      await requireStore(config.dbPath, { create: true });
      // grpc-js would print its own line for a failed bind beside ours; learnloop reports every error itself.
      setLogVerbosity(logVerbosity.NONE);
      const log = createLogger(config.logLevel);
      const rules = (() => {
        try {
          return loadRules(String(opts.rules));
        } catch (err) {
          throw new UserError((err as Error).message);
        }
      })();
      const server = await startServer(config, log, { rules });
      const stop = (signal: string) => {
        log.info({ signal }, 'signal received');
        server.shutdown().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
