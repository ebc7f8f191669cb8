/** What every command shares: settings flags, opening the store, printing, and user errors. */
import { Option, type Command } from 'commander';
import { loadConfig, SETTINGS, type Config, type Flags } from '../config.js';
import { LearnLoop } from '../service/learnloop.js';
import { LmdbStore } from '../store/index.js';

/** Raised for a failure the user can fix; printed without a stack. */
export class UserError extends Error {}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function withSettings(cmd: Command, names?: readonly string[]): Command {
  for (const [flag, env, fallback, meaning] of SETTINGS) {
    if (names && !names.includes(flag)) continue;
    cmd.addOption(new Option(`--${flag} <value>`, `${meaning} [env ${env}, default ${JSON.stringify(fallback)}]`));
  }
  return cmd;
}

export function configFrom(opts: Record<string, unknown>): Config {
  const flags: Record<string, string | undefined> = {};
  for (const [flag] of SETTINGS) {
    const v = opts[camel(flag)];
    if (typeof v === 'string') flags[flag] = v;
  }
  return loadConfig(process.env, flags as Flags);
}

export async function withLearnLoop<T>(opts: Record<string, unknown>, fn: (ll: LearnLoop) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  // Beside a running server, use the policy the folder was built with, so the numbers agree.
  const store = await LmdbStore.open(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
  try {
    return await fn(new LearnLoop({ store, limits: config.limits }));
  } finally {
    await store.close();
  }
}

export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

/** What the command modules are lent, so they share settings, store handling and errors. */
export interface CliHelpers {
  withSettings(cmd: Command, names?: readonly string[]): Command;
  withLearnLoop<T>(opts: Record<string, unknown>, fn: (ll: LearnLoop) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, human: () => string): void;
  /** An error the user can fix: printed as one line, exit code 2. */
  userError(message: string): Error;
}

export const helpers: CliHelpers = { withSettings, withLearnLoop, print, userError: (m) => new UserError(m) };
