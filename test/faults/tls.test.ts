import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { createClient } from '../../src/client.js';
import { Outcome } from '../../src/index.js';
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
