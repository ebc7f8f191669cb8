/** Startup checks: each problem that stops the server is reported as one line, before anything opens. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';

/** A problem that stops the server from starting; the command line prints its message alone, on one line. */
export class StartupError extends Error {}

/**
 * A port that could not be listened on, as one line naming it (and saying so when it is in use).
 * @param what what was to be served there, e.g. "listen" or "serve the dashboard"
 */
export function listenError(what: string, host: string, port: number, err: unknown): StartupError {
  const message = (err as Error).message;
  const busy = /EADDRINUSE|address already in use/i.test(message);
  return new StartupError(`cannot ${what} on ${host}:${port}${busy ? ' (is another server using that port?)' : ''}: ${message.split('\n')[0]}`);
}

/** Host names that reach only this machine. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Refuses a dashboard other machines can reach without a token: it would take actions (retire a
 * template, decide a refinement) from anyone who reaches its port, and from any web page its users
 * open, since DNS rebinding makes such a page same-origin; on a loopback address the Host check stops that.
 */
export function assertDashboardGuarded(host: string, token: string): void {
  if (token === '' && !LOOPBACK_HOSTS.has(host)) {
    throw new StartupError(`--host ${host}: a dashboard reachable from other machines needs --token (LEARNLOOP_TOKEN), or anyone who reaches it, and any web page its users open, could act on it; set --token, or keep --host on 127.0.0.1`);
  }
}

function read(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a folder' : (e.code ?? e.message);
    throw new StartupError(`${flag}: cannot read ${path}: ${why}`);
  }
}

/**
 * Server credentials: plaintext when no certificate is configured, else TLS with the checked pair.
 * @throws StartupError when a file is missing or unreadable, is not PEM of the right kind, or the key does not match the certificate.
 */
export function serverCredentials(certPath: string, keyPath: string): ServerCredentials {
  if (certPath === '') return ServerCredentials.createInsecure();
  const cert = read('--tls-cert', certPath);
  const key = read('--tls-key', keyPath);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new StartupError(`--tls-cert: ${certPath} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new StartupError(`--tls-key: ${keyPath} is not an unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new StartupError(`--tls-key: ${keyPath} does not match the certificate in --tls-cert (${certPath})`);
  }
  return ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }]);
}
