import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';

const children: ChildProcess[] = [];

export interface ServingChild {
  readonly child: ChildProcess;
  readonly port: number;
  readonly addr: string;
}

/**
 * Spawns a command that runs `learnloop serve --port 0 ...` and resolves once its log names the
 * port it took; the process and its children are killed after the test.
 * @param command an executable (process.execPath with the bin as first argument, or an installed bin)
 */
export function serveOnFreePort(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ServingChild> {
  // Its own process group, so a wrapper (npm start) and the server under it end together.
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...options });
  children.push(child);
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /"port":(\d+).*"msg":"learnloop serving"/.exec(log);
      if (m) resolve({ child, port: Number(m[1]), addr: `127.0.0.1:${m[1]}` });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before serving:\n${log}`)));
  });
}

afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
