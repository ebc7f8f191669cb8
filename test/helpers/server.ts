import { createServer } from 'node:net';
import { afterEach } from 'vitest';
import pino from 'pino';
import { createClient, type ClientOptions, type LearnLoopClient } from '../../src/client.js';
import { loadConfig, type Flags } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { tmpDir } from './tmp.js';

export interface TestServer {
  readonly server: RunningServer;
  readonly client: LearnLoopClient;
  readonly addr: string;
  readonly dbPath: string;
}

const running: Array<() => Promise<void>> = [];

/** A real server on 127.0.0.1:0 with a fresh LMDB folder, and a real client; both closed after the test. */
export async function startTestServer(flags: Flags = {}, clientOptions: ClientOptions = {}): Promise<TestServer> {
  const dbPath = flags.db ?? tmpDir();
  const config = loadConfig({}, { port: '0', 'log-level': 'silent', ...flags, db: dbPath });
  const server = await startServer(config, pino({ level: 'silent' }));
  const addr = `127.0.0.1:${server.port}`;
  const client = createClient(addr, clientOptions);
  running.push(async () => {
    client.close();
    await server.shutdown();
  });
  return { server, client, addr, dbPath };
}

afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/** A TCP port free on 127.0.0.1 a moment ago, for flags that take a port and treat 0 as off (--http-port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 0));
    });
  });
}
