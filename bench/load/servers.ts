import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createClient } from '../../src/client.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** The repository root, from dist/bench/load. */
export const ROOT = join(HERE, '..', '..', '..');

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

/** Peak resident set size of a process (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface EchoServer {
  readonly port: number;
  /** Calls answered so far. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

export async function startEcho(): Promise<EchoServer> {
  const child = spawn(process.execPath, [join(HERE, 'echo-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const port = Number(await nextLine());
  return {
    port,
    count: async () => {
      const p = nextLine();
      child.stdin!.write('count\n');
      return Number(await p);
    },
    stop: () => stopChild(child, () => child.stdin!.end()),
  };
}

export interface LearnLoopProcess {
  readonly port: number;
  readonly metricsPort: number;
  readonly pid: number;
  /** The exit code or signal once the process has ended, else null. */
  exitStatus(): string | null;
  /** The last few KB the process wrote to stderr. */
  stderrTail(): string;
  /** learnloop_rpc_calls_total by "rpc code", scraped from /metrics. */
  callCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** `learnloop serve` in its own process, as deployed; resolves once it answers ListTemplates. */
export async function startLearnLoop(db: string, flags: readonly string[] = []): Promise<LearnLoopProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'learnloop.js'), 'serve', '--port', String(port), '--db', db, '--log-level', 'warn', '--metrics-port', String(metricsPort), ...flags],
    { stdio: ['ignore', 'inherit', 'pipe'] },
  );
  // Keep the tail of stderr: when a server dies under load, the report says why.
  let stderrTail = '';
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const client = createClient(`127.0.0.1:${port}`, { deadlineMs: 2000 });
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`learnloop serve exited with ${child.exitCode}`);
      try {
        await client.listTemplates();
        break;
      } catch (err) {
        if (i > 300) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.close();
  }
  return {
    port,
    metricsPort,
    pid: child.pid!,
    exitStatus: () => (child.exitCode !== null ? String(child.exitCode) : child.signalCode),
    stderrTail: () => stderrTail,
    callCounts: async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^learnloop_rpc_calls_total\{rpc="(\w+)",code="(\w+)"\} (\d+)$/gm)) out[`${m[1]} ${m[2]}`] = Number(m[3]);
      return out;
    },
    stop: () => stopChild(child, () => child.kill('SIGTERM')),
  };
}

const live = new Set<ChildProcess>();

/** Ends every server this run started and has not stopped (after a failure). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

function stopChild(child: ChildProcess, ask: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    ask();
  });
}
