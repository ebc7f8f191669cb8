/** What every command shares: settings flags, opening the store, printing, and user errors. */
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { isPostgresUrl, loadConfig, SETTINGS, type Config, type Flags } from '../config.js';
import { folderToCreate, openApp, type App } from '../compose.js';
import { printable } from '../reports/index.js';
import { hasLmdbStore, hasPgStore, redactPgUrl } from '../store/index.js';

/** Raised for a failure the user can fix; printed without a stack, exit code 2. */
export class UserError extends Error {}

/** The operation failed though the input was fine (a server unreachable, say); one line, exit code 1. */
export class OperationError extends Error {}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds the named settings' flags (all without `names`); `meanings` rewords a flag for this command. */
export function withSettings(cmd: Command, names?: readonly string[], meanings: Readonly<Record<string, string>> = {}): Command {
  for (const [flag, env, fallback, settingMeaning] of SETTINGS) {
    if (names && !names.includes(flag)) continue;
    const meaning = meanings[flag] ?? settingMeaning;
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

/**
 * Refuses a --db that names no store (a missing folder, one without LMDB's data file, a PostgreSQL
 * database without learnloop's schema), unless
 * the command was asked to create one (`--create`; `serve` always may): a typo in the path, or
 * `--db .`, must not silently make, and then read, an empty store. Also refuses a folder path that
 * runs through a file, which LMDB would report with a stack, and a folder whose data file is cut
 * short. An empty data file (a creation cut short) counts as no store: LMDB makes one in it.
 */
export async function requireStore(dbPath: string, opts: Record<string, unknown>): Promise<void> {
  if (isPostgresUrl(dbPath)) {
    // A database without learnloop's schema (a wrong name, the server's default `postgres`) gets none
    // made in it by a command that only reads.
    if (opts.create !== true && !(await hasPgStore(dbPath))) throw new UserError(noStore(redactPgUrl(dbPath), ' (the database has no learnloop schema)'));
    return;
  }
  const folder = dbPath !== 'memory:' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(dbPath);
  if (!folder) return;
  let existing = resolve(dbPath);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    // Earlier versions wrote a --db named like a file (learnloop.db) as an LMDB data file, its lock beside it.
    const lmdbFile = existing === resolve(dbPath) && existsSync(`${existing}-lock`);
    const what = existing === resolve(dbPath) ? 'it is a file' : `${existing} is a file`;
    throw new UserError(
      `--db ${dbPath}: not a folder (${what})` +
        (lmdbFile ? `; it looks like a store an earlier learnloop kept in a file: move it into a folder (mkdir D && mv ${dbPath} D/data.mdb) and use --db D` : ''),
    );
  }
  const present = hasLmdbStore(dbPath); // throws on a data file cut short, whatever the command
  if (opts.create !== true && !present) throw new UserError(noStore(dbPath, existsSync(dbPath) ? ' (the folder holds no data.mdb, or an empty one)' : ''));
}

const noStore = (db: string, why: string) =>
  `--db ${db}: no learnloop store there${why}; start a server on it (learnloop serve --db ${db}), or add --create to an import or templates register to make an empty one`;

/** Adds `--create` to a command that writes to --db. */
/** A comma-separated flag value as its items, blanks dropped ('a, b,' is a and b). */
export const commaList = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

export const withCreate = (cmd: Command): Command => cmd.option('--create', 'make the store if --db names none');

/** Runs `fn` on the application over the store --db names, closing the store after. */
export async function withApp<T>(opts: Record<string, unknown>, fn: (app: App) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  await requireStore(config.dbPath, opts);
  return removingCreatedOnFailure(config.dbPath, async () => {
    // Beside a running server, use the policy the store was built with, so the numbers agree.
    const app = await openApp(config, { onPolicyChange: 'adopt' });
    try {
      return await fn(app);
    } catch (err) {
      await app.store.discardMade?.();
      throw err;
    } finally {
      await app.store.close();
    }
  });
}

/** Runs `fn`; if it fails, removes the folder `dbPath` it made (a failed command leaves no new store, as a failed start). */
export async function removingCreatedOnFailure<T>(dbPath: string, fn: () => Promise<T>): Promise<T> {
  const created = folderToCreate(dbPath);
  try {
    return await fn();
  } catch (err) {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw err;
  }
}

/** `--json` for programs; otherwise text for a terminal, whose control and bidi characters are shown escaped (printable). */
export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : printable(human())) + '\n');
}

/** What the command modules are lent, so they share settings, store handling and errors. */
export interface CliHelpers {
  withSettings(cmd: Command, names?: readonly string[], meanings?: Readonly<Record<string, string>>): Command;
  withApp<T>(opts: Record<string, unknown>, fn: (app: App) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, human: () => string): void;
  /** An error the user can fix: printed as one line, exit code 2. */
  userError(message: string): Error;
}

export const helpers: CliHelpers = { withSettings, withApp, print, userError: (m) => new UserError(m) };
