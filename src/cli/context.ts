/** What every command shares: settings flags, opening the store, printing, and user errors. */
import { Option, type Command } from 'commander';
import { loadConfig, SETTINGS, type Config, type Flags } from '../config.js';
import { openApp, type App } from '../compose.js';

/** Raised for a failure the user can fix; printed without a stack. */
export class UserError extends Error {}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function withSettings(cmd: Command, names?: readonly string[]): Command {
  for (const [flag, env, fallback, meaning] of SETTINGS) {
    if (names && !names.includes(flag)) continue;
    // true/false settings may be given bare (`--protect-reads`), meaning true.
    const value = fallback === 'true' || fallback === 'false' ? '[value]' : '<value>';
    cmd.addOption(new Option(`--${flag} ${value}`, `${meaning} [env ${env}, default ${JSON.stringify(fallback)}]`));
  }
  return cmd;
}

export function configFrom(opts: Record<string, unknown>): Config {
  const flags: Record<string, string | undefined> = {};
  for (const [flag] of SETTINGS) {
    const v = opts[camel(flag)];
    if (typeof v === 'string') flags[flag] = v;
    else if (v === true) flags[flag] = 'true';
  }
  return loadConfig(process.env, flags as Flags);
}

/** Runs `fn` on the application over the store --db names, closing the store after. */
export async function withApp<T>(opts: Record<string, unknown>, fn: (app: App) => Promise<T>): Promise<T> {
  // Beside a running server, use the policy the store was built with, so the numbers agree.
  const app = await openApp(configFrom(opts), { onPolicyChange: 'adopt' });
  try {
    return await fn(app);
  } finally {
    await app.store.close();
  }
}

export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

/** What the command modules are lent, so they share settings, store handling and errors. */
export interface CliHelpers {
  withSettings(cmd: Command, names?: readonly string[]): Command;
  withApp<T>(opts: Record<string, unknown>, fn: (app: App) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, human: () => string): void;
  /** An error the user can fix: printed as one line, exit code 2. */
  userError(message: string): Error;
}

export const helpers: CliHelpers = { withSettings, withApp, print, userError: (m) => new UserError(m) };
