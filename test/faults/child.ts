import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { createClient, type ClientOptions } from '../../src/client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'learnloop.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly addr: string;
  /** What the process wrote to stderr so far (its error messages). */
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

const children = new Set<ChildProcess>();

/** Runs `learnloop <args>` as a child process (the built CLI in dist/, as deployed). */
export function spawnLearnLoop(args: readonly string[]): ChildProcess {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * `learnloop serve` on a free port in its own process; resolves once it answers a call.
 * @throws when the process exits before serving (the message includes its stderr).
 */
export async function startChildServer(db: string, flags: readonly string[] = [], clientOptions: ClientOptions = {}): Promise<ChildServer> {
  const port = await freePort();
  const child = spawnLearnLoop(['serve', '--port', String(port), '--db', db, '--log-level', 'warn', ...flags]);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? 0)));
  const addr = `127.0.0.1:${port}`;
  const probe = createClient(addr, { ...clientOptions, deadlineMs: 1000 });
  try {
    for (const started = Date.now(); ; ) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`learnloop serve exited early: ${err}`);
      try {
        await probe.listTemplates();
        break;
      } catch (e) {
        if (Date.now() - started > 20_000) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    probe.close();
  }
  return { child, port, addr, stderr: () => err, exited };
}

/** Ends a child with `signal` and waits until it is gone. */
export async function stopChild(server: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  await server.exited;
}

afterEach(() => {
  // A failed test must not leave servers behind.
  for (const child of children) child.kill('SIGKILL');
});
