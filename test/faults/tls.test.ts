import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import pino from 'pino';
import { createClient } from '../../src/client.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Outcome } from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { startServer } from '../../src/server/index.js';
import { StartupError } from '../../src/server/startup.js';
import { startTestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
function selfSigned(): { cert: string; key: string } {
  const dir = tmpDir('learnloop-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return status.OK;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

const run = { runId: 'r1', templateId: 't@v1', outcome: Outcome.OUTCOME_PASS };

describe('TLS and bearer token', () => {
  test('TLS by configuration: a client trusting the certificate works; plaintext and untrusting clients do not', async () => {
    const { cert, key } = selfSigned();
    const { addr } = await startTestServer({ 'tls-cert': cert, 'tls-key': key, token: 's3cret' });
    const trusting = createClient(addr, { tls: { caPath: cert }, token: 's3cret', deadlineMs: 5000 });
    const anonymous = createClient(addr, { tls: { caPath: cert }, deadlineMs: 5000 });
    const plaintext = createClient(addr, { token: 's3cret', deadlineMs: 2000 });
    const untrusting = createClient(addr, { tls: true, token: 's3cret', deadlineMs: 2000 });
    try {
      expect((await trusting.observe(run)).applied).toBe(true);
      // Over TLS the token is still required on writes, and reads stay open.
      expect(await codeOf(anonymous.observe({ ...run, runId: 'r2' }))).toBe(status.UNAUTHENTICATED);
      expect((await anonymous.listTemplates()).templates).toHaveLength(1);
      expect(await codeOf(plaintext.listTemplates())).toBe(status.UNAVAILABLE);
      expect(await codeOf(untrusting.listTemplates())).toBe(status.UNAVAILABLE);
    } finally {
      for (const c of [trusting, anonymous, plaintext, untrusting]) c.close();
    }
  });

  test('with a token configured, every write RPC without it is UNAUTHENTICATED and changes nothing', async () => {
    const { addr, server } = await startTestServer({ token: 's3cret' });
    const wrong = createClient(addr, { token: 'guess' });
    const none = createClient(addr);
    try {
      for (const c of [wrong, none]) {
        expect(await codeOf(c.observe(run))).toBe(status.UNAUTHENTICATED);
        expect(await codeOf(c.recommend({ candidateTemplateIds: ['a'] }))).toBe(status.UNAUTHENTICATED);
        expect(await codeOf(c.registerTemplate({ templateId: 'a' }))).toBe(status.UNAUTHENTICATED);
      }
      expect(await server.store.head()).toBe(0);
    } finally {
      wrong.close();
      none.close();
    }
  });
});

describe('reads behind a token', () => {
  test('--read-token: reads need it (ListRefinements too: test/refinements/rpc.test.ts), writes need the write token, each refuses the other', async () => {
    const { addr, server } = await startTestServer({ token: 'w', 'read-token': 'r' });
    const reader = createClient(addr, { token: 'r' });
    const writer = createClient(addr, { token: 'w' });
    const none = createClient(addr);
    try {
      expect((await writer.observe(run)).applied).toBe(true);
      for (const c of [none, writer]) {
        expect(await codeOf(c.listTemplates())).toBe(status.UNAUTHENTICATED);
        expect(await codeOf(c.getScores({}))).toBe(status.UNAUTHENTICATED);
      }
      expect(await codeOf(reader.observe({ ...run, runId: 'r2' }))).toBe(status.UNAUTHENTICATED);
      expect((await reader.listTemplates()).templates).toHaveLength(1);
      expect((await reader.getScores({})).scorecards).toHaveLength(1);
      expect(await server.store.head()).toBe(2);
    } finally {
      for (const c of [reader, writer, none]) c.close();
    }
  });

  test('--protect-reads puts the write token on reads; it needs a token to protect with', async () => {
    const { addr } = await startTestServer({ token: 's3cret', 'protect-reads': 'true' });
    const anonymous = createClient(addr);
    const holder = createClient(addr, { token: 's3cret' });
    try {
      expect(await codeOf(anonymous.getScores({}))).toBe(status.UNAUTHENTICATED);
      expect(await codeOf(holder.getScores({}))).toBe(status.OK);
    } finally {
      anonymous.close();
      holder.close();
    }
    expect(() => loadConfig({}, { db: 'x', 'protect-reads': 'true' })).toThrow(ConfigError);
    expect(loadConfig({ LEARNLOOP_PROTECT_READS: 'true', LEARNLOOP_TOKEN: 't' }, { db: 'x' }).readToken).toBe('t');
    expect(loadConfig({}, { db: 'x', token: 't' }).readToken).toBe('');
  });
});

describe('startup problems are one clear line each', () => {
  const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
  const argv = (args: string[]) => [BIN, 'serve', '--port', '0', '--db', tmpDir(), '--log-level', 'silent', ...args];
  const serve = (...args: string[]) => spawnSync(process.execPath, argv(args), { encoding: 'utf8', timeout: 30_000 });
  /** Like serve, without blocking the event loop (the test holds a port open meanwhile). */
  const serveAsync = (...args: string[]) =>
    new Promise<{ stderr: string; status: number | null }>((resolve) => {
      execFile(process.execPath, argv(args), { encoding: 'utf8', timeout: 30_000 }, (err, _out, stderr) => resolve({ stderr, status: err ? (err.code as number) : 0 }));
    });

  async function startupError(flags: Record<string, string>): Promise<string> {
    const config = loadConfig({}, { port: '0', db: tmpDir(), 'log-level': 'silent', ...flags });
    try {
      const s = await startServer(config, pino({ level: 'silent' }));
      await s.shutdown();
    } catch (err) {
      expect(err).toBeInstanceOf(StartupError);
      return (err as Error).message;
    }
    throw new Error('the server started');
  }

  test('a missing key or certificate file names the flag and the path', async () => {
    const { cert, key } = selfSigned();
    expect(await startupError({ 'tls-cert': cert, 'tls-key': `${key}.missing` })).toBe(`--tls-key: cannot read ${key}.missing: no such file`);
    expect(await startupError({ 'tls-cert': `${cert}.missing`, 'tls-key': key })).toBe(`--tls-cert: cannot read ${cert}.missing: no such file`);
    // A key file that is not a key, and a certificate file that is not a certificate.
    expect(await startupError({ 'tls-cert': cert, 'tls-key': cert })).toBe(`--tls-key: ${cert} is not an unencrypted PEM private key`);
    expect(await startupError({ 'tls-cert': key, 'tls-key': key })).toBe(`--tls-cert: ${key} is not a PEM certificate`);
  });

  test('a key that does not match the certificate says so (not "is another server using that port?")', async () => {
    const a = selfSigned();
    const b = selfSigned();
    const message = await startupError({ 'tls-cert': a.cert, 'tls-key': b.key });
    expect(message).toBe(`--tls-key: ${b.key} does not match the certificate in --tls-cert (${a.cert})`);
  });

  test('learnloop serve prints the one line, no stack, and exits 2', async () => {
    const { cert } = selfSigned();
    const other = selfSigned();
    for (const [args, line] of [
      [['--tls-cert', cert, '--tls-key', '/nonexistent/key.pem'], 'learnloop: --tls-key: cannot read /nonexistent/key.pem: no such file\n'],
      [['--tls-cert', cert, '--tls-key', other.key], `learnloop: --tls-key: ${other.key} does not match the certificate in --tls-cert (${cert})\n`],
    ] as const) {
      const r = serve(...args);
      expect(r.stderr).toBe(line);
      expect(r.status).toBe(2);
    }
    // The metrics port already taken.
    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const taken = (busy.address() as AddressInfo).port;
    const metrics = await serveAsync('--metrics-port', String(taken));
    busy.close();
    expect(metrics.stderr).toBe(`learnloop: --metrics-port: cannot listen on 127.0.0.1:${taken} (is another process using that port?): EADDRINUSE\n`);
    expect(metrics.status).toBe(2);
    // A true/false setting given bare means true: --protect-reads without a token to protect with.
    const bare = serve('--protect-reads');
    expect(bare.stderr).toBe('learnloop: invalid configuration:\n  --protect-reads: needs --token (or give --read-token)\n');
    expect(bare.status).toBe(2);
  });
});
