/** `learnloop serve`: the gRPC server, stopped gracefully on SIGTERM or SIGINT. */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { startServer } from '../../server/index.js';
import { createLogger } from '../../server/logging.js';
import { configFrom, withSettings } from '../context.js';

export function registerServe(program: Command): void {
  withSettings(program.command('serve').description('run the gRPC server')).action(async (opts) => {
    const config = configFrom(opts);
    // grpc-js would print its own line for a failed bind beside ours; learnloop reports every error itself.
    setLogVerbosity(logVerbosity.NONE);
    const log = createLogger(config.logLevel);
    const server = await startServer(config, log);
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
