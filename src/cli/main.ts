import { status, type ServiceError } from '@grpc/grpc-js';
import { Command, CommanderError } from 'commander';
import { LearnLoopError } from '../bandit/index.js';
import { errorCode } from '../client.js';
import { ConfigError } from '../config.js';
import { packageVersion } from '../paths.js';
import { printable } from '../reports/index.js';
import { STATUS_BY_CODE } from '../server/errors.js';
import { StartupError } from '../server/startup.js';
import { UnusableStore } from '../store/index.js';
import { helpers, OperationError, UserError } from './context.js';
import { registerAnalytics } from './commands/analytics.js';
import { registerBenchCommands } from './commands/bench.js';
import { registerClientCommands } from './commands/client.js';
import { registerExport } from './commands/events.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerImport } from './commands/import.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerScores } from './commands/scores.js';
import { registerServe } from './commands/serve.js';
import { registerTemplates } from './commands/templates.js';

export function buildProgram(): Command {
  const program = new Command('learnloop')
    .description('Template recommendations that learn from verified coding-agent runs.')
    .version(packageVersion(), '-V, --version', 'print the version')
    // Argument errors are one line and exit 2 like learnloop's own checks (main maps the exit);
    // subcommands inherit both settings.
    .showHelpAfterError('(add --help for the usage of this command)')
    .exitOverride();
  registerServe(program);
  registerDashboard(program);
  registerClientCommands(program);
  registerTemplates(program);
  registerScores(program);
  registerRebuild(program);
  registerImport(program);
  registerExport(program);
  // Report subcommands (lift, scores, trend, failures, weekly) attach to this group.
  program.command('report').description('reports derived from the event log');
  registerAnalytics(program, helpers);
  registerBenchCommands(program);
  return program;
}

/** The one line a failed command prints; it may quote an id or a line of input, shown as printable() does. */
const say = (message: string) => process.stderr.write(`learnloop: ${printable(message)}\n`);

/**
 * Runs the command line. Exit codes: 0 success, 1 the operation failed (the server answered with
 * an error, or could not be reached), 2 usage or input error (flags, arguments, input files).
 */
export async function main(argv: readonly string[]): Promise<void> {
  // `learnloop ... | head` closes stdout early; that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help or version, which exit 0).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else if (err instanceof ConfigError || err instanceof UserError || err instanceof StartupError) {
      say(err.message);
      process.exitCode = 2;
    } else if (err instanceof UnusableStore) {
      // Whichever command opened it: the folder or database is the user's to fix or point elsewhere.
      say(`--db ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof OperationError) {
      say(err.message);
      process.exitCode = 1;
    } else if (isServiceError(err)) {
      // The server's catalog code after the message, as a --db command prints it.
      const code = errorCode(err);
      say(`${statusName(err.code)}: ${err.details}${code === undefined ? '' : ` (${code})`}`);
      process.exitCode = 1;
    } else if (err instanceof LearnLoopError) {
      // Named as a server would answer it, so a command on --db reads like its client counterpart,
      // with the catalog code (docs/errors.md) after; bad input is the user's to fix (2), anything
      // else the operation failing (1).
      const code = STATUS_BY_CODE[err.code];
      say(`${statusName(code)}: ${err.message} (${err.code})`);
      process.exitCode = code === status.INVALID_ARGUMENT ? 2 : 1;
    } else if (isSystemError(err)) {
      // A file or folder the command was pointed at: Node's one-line message names it and the call.
      say(err.message);
      process.exitCode = PATH_ERRORS.has(err.code) ? 2 : 1;
    } else {
      throw err;
    }
  }
}

/** Errors a path the user gave causes (missing, a file where a folder should be, not allowed...). */
const PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EEXIST', 'ELOOP', 'ENAMETOOLONG', 'EROFS']);

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string';
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
];
const statusName = (code: number) => STATUS_NAMES[code] ?? String(code);
