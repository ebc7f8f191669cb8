/**
 * A throwaway PostgreSQL cluster in a temporary folder, for the tests and the load benchmark:
 * initdb, then the server on a free 127.0.0.1 port with its unix socket in the same folder, and
 * everything removed on stop. Runs the PostgreSQL programs as the `postgres` user when we are root
 * (initdb refuses root), as ourselves otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './load/servers.js';

export interface PgCluster {
  /** Superuser URL of the cluster's `postgres` database. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (fast shutdown: open sessions are ended) and keeps the folder. */
  stopServer(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  startServer(): Promise<void>;
  /** Stops the server and removes the folder. */
  destroy(): Promise<void>;
}

export interface PgClusterOptions {
  /**
   * Skip fsync (tests: a crash of the machine is not what they test). The benchmark keeps it on,
   * so PostgreSQL commits are as durable as LMDB's.
   */
  readonly fsync?: boolean;
}

/**
 * Where initdb and pg_ctl are: $LEARNLOOP_PG_BIN, then `pg_config --bindir`, then the newest
 * Debian /usr/lib/postgresql/N/bin. Undefined when PostgreSQL is not installed.
 */
export function pgBinDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.LEARNLOOP_PG_BIN) candidates.push(process.env.LEARNLOOP_PG_BIN);
  const config = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (config.status === 0) candidates.push(config.stdout.trim());
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(debian, v, 'bin'));
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

/** Runs a PostgreSQL program, as `postgres` when we are root; throws with its output on failure. */
function run(bin: string, program: string, args: readonly string[]): void {
  const path = join(bin, program);
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, [...args]];
  try {
    execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${err.stderr?.toString() || err.stdout?.toString() || err.message}`);
  }
}

/**
 * Creates and starts a cluster.
 * @throws when PostgreSQL is not installed or does not start (the message says which and why).
 */
export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (no initdb found: set LEARNLOOP_PG_BIN, or install Debian\'s postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'learnloop-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run(bin, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    ...(options.fsync === false ? ['-c fsync=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  const startServer = async () => run(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', settings, 'start']);
  const stopServer = async () => run(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  try {
    await startServer();
  } catch (e) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stopServer,
    startServer,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await stopServer();
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
