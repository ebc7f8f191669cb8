/**
 * The dashboard's HTTP server (Fastify): pages, the same views as JSON at /api/v1/<view>, the
 * refinement and template actions as POSTs, and optionally Prometheus /metrics.
 *
 * Security: it binds to 127.0.0.1 unless told otherwise, and refuses Host headers other than its
 * own loopback names there (DNS rebinding). With a token configured, every page, JSON URL and
 * /metrics needs it (Authorization: Bearer, or the cookie that `?token=` sets). Actions need, on
 * top, a same-origin request: an Origin naming this Host (by http or https), no cross-site
 * Sec-Fetch-Site, and the form's CSRF field; a request carrying the token in an Authorization header
 * is a script's, not a browser's ambient credential, and needs no CSRF field.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { InvalidArgument, type Violation } from '../bandit/index.js';
import { escapeXml } from '../charts/index.js';
import { renderBlocksHtml, renderJson, scoreboardBlocks, type RemediationRules } from '../reports/index.js';
import { LOOPBACK_HOSTS } from '../server/startup.js';
import { assets } from './assets.js';
import { buildDashboard, type DashboardModel, type Folds } from './model.js';
import { LogFold } from './fold.js';
import { buildingPage, notFoundPage, renderPage, unauthorizedPage, VIEWS, type ViewName } from './pages.js';
import { readSnapshot, snapshotOf } from './snapshot.js';
import { NotFound, type DashboardActions, type DashboardSource } from './source.js';

export interface DashboardOptions {
  readonly source: DashboardSource;
  /** Absent: a read-only dashboard (no forms accepted). */
  readonly actions?: DashboardActions;
  readonly rules: RemediationRules;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Required on every URL when not ''. */
  readonly token: string;
  /**
   * A fixed dashboard date (tests, screenshots); default: the end of the current UTC day, so the
   * windows (weekly trend, the scoreboard's 70 days, the lift's decisions) stay put through the day
   * and a refresh only adds the new events to what the last build kept (src/dashboard/fold.ts).
   */
  readonly asOfMs?: number;
  readonly now?: () => number;
  /** Serve GET /metrics from this registry too. */
  readonly metrics?: Registry;
  /** Rebuild at least this often even when the log has not moved (the date moves), ms; default 5 minutes. */
  readonly maxAgeMs?: number;
  /** Start the first build as soon as the server listens, so the first page need not wait for all of it (default true). */
  readonly warm?: boolean;
  /** Write the snapshot after a build that moved the fold this many events past the last one (default 50,000), and on close. */
  readonly snapshotEvery?: number;
  /**
   * With no model yet (a first build without a snapshot), how long a request waits for it before it
   * is answered with how far the build has read, ms (default 5,000; Infinity: wait).
   */
  readonly buildingAfterMs?: number;
  /** Where a request that failed inside (a store error, a bug) is logged in full; its answer says only 'internal error'. */
  readonly log?: Pick<Logger, 'error'>;
  /**
   * Resolves once the source may be read: a server binds the dashboard before it prepares its store
   * (a fresh database has no tables yet). Until then every request but an asset's is answered 503
   * 'server is starting' with Retry-After, and the first build waits for it. Absent: ready now.
   */
  readonly ready?: Promise<void>;
}

export interface DashboardServer {
  readonly port: number;
  readonly url: string;
  readonly app: FastifyInstance;
  /** The current model (built on demand, cached per log head). */
  model(): Promise<DashboardModel>;
  close(): Promise<void>;
}

const COOKIE = 'learnloop_dashboard';
const MS_PER_DAY = 86_400_000;
/** The last millisecond of the UTC day of `t`. */
const endOfDay = (t: number) => Math.floor(t / MS_PER_DAY) * MS_PER_DAY + MS_PER_DAY - 1;
/** Events the fold moves between snapshots (besides the one written on close). */
const SNAPSHOT_EVERY = 50_000;
/** How long a request with no model yet waits for the first build, ms (DashboardOptions.buildingAfterMs). */
const BUILDING_AFTER_MS = 5000;
/** Seconds after which a 'building' answer asks to be asked again. */
const BUILDING_RETRY_S = 2;

/** How far a first build has read the log. */
interface Progress {
  readonly read: number;
  readonly of: number;
}
const buildingMessage = (p: Progress) => `building: ${p.read.toLocaleString('en-US')} of ${p.of.toLocaleString('en-US')} events read`;

const JSON_VIEWS: Record<string, (m: DashboardModel) => unknown> = {
  overview: (m) => ({ asOfMs: m.asOfMs, head: m.head, ...m.overview }),
  matrix: (m) => ({ asOfMs: m.asOfMs, head: m.head, ...m.matrix }),
  traffic: (m) => ({ asOfMs: m.asOfMs, head: m.head, weeks: m.traffic }),
  lift: (m) => ({ asOfMs: m.asOfMs, head: m.head, ...m.lift }),
  failures: (m) => ({ asOfMs: m.asOfMs, head: m.head, ...m.failures }),
  refinements: (m) => ({ asOfMs: m.asOfMs, head: m.head, refinements: m.refinements }),
  templates: (m) => ({ asOfMs: m.asOfMs, head: m.head, templates: m.lineage }),
};

/** Every view's JSON at once, as /api/v1/dashboard answers it. */
export const dashboardJson = (m: DashboardModel): string => renderJson(Object.fromEntries(Object.entries(JSON_VIEWS).map(([k, f]) => [k, f(m)])));

const SECURITY_HEADERS = {
  // vega compiles its expressions with Function, hence 'unsafe-eval'; no inline script runs.
  'content-security-policy':
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: Chromium then sends Origin: null with our own form posts.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the dashboard; resolves once it listens. */
export async function startDashboard(o: DashboardOptions): Promise<DashboardServer> {
  const now = o.now ?? Date.now;
  const maxAgeMs = o.maxAgeMs ?? 300_000;
  // The CSRF field is an HMAC of a per-process secret: pages carry it, other sites cannot read it.
  const secret = randomBytes(32);
  const csrf = createHmac('sha256', secret).update('learnloop dashboard csrf').digest('base64url');
  /** `restored`: the last model of an earlier process, answered (marked stale) until this one's first build. */
  let cache: { head: number; builtAtMs: number; model: DashboardModel; restored?: true } | undefined;
  let building: Promise<DashboardModel> | undefined;
  // The log read so far: each build reads only the events since the last (builds run one at a time).
  const folds: Folds = {};
  // The snapshot beside the log: read before the first build, written after builds that moved the
  // fold far enough and on close. Its writes never hold up or fail a page.
  let snapshotHead = 0;
  let restoring: Promise<void> | undefined;
  /** The first build's reading: the log's head when it started. */
  let progress: Progress = { read: 0, of: 0 };
  let writing: Promise<void> | undefined;
  const restore = async () => {
    const snap = await readSnapshot(o.source);
    if (snap === undefined) return;
    snapshotHead = snap.seq;
    folds.restore = async () => LogFold.restore(o.source.policy, await snap.fold(LogFold.readsLater));
    if (cache === undefined && (o.asOfMs === undefined || o.asOfMs === snap.model.asOfMs)) cache = { head: snap.model.head, builtAtMs: -Infinity, model: snap.model, restored: true };
  };
  const saveSnapshot = (m: DashboardModel, always: boolean): Promise<void> | undefined => {
    const fold = folds.current;
    const write = o.source.writeSnapshot;
    // Only while no build moves the fold, and for the model it gave.
    if (write === undefined || fold === undefined || building !== undefined || writing !== undefined || cache?.model !== m || fold.foldedHead !== m.head) return undefined;
    if (fold.foldedHead <= snapshotHead || (!always && fold.foldedHead - snapshotHead < (o.snapshotEvery ?? SNAPSHOT_EVERY))) return undefined;
    // A snapshot that cannot be made or written (a full disk) only costs the next start its head start.
    let snap: ReturnType<typeof snapshotOf>;
    try {
      snap = snapshotOf(o.source.policy, fold, m);
    } catch {
      return undefined;
    }
    const { seq, body } = snap;
    // Made a piece per turn as the store takes them, so pages and gRPC calls are answered meanwhile;
    // the next build waits for it (the fold must not move under it).
    writing = write(seq, body)
      .then(() => void (snapshotHead = seq), () => undefined)
      .finally(() => {
        writing = undefined;
      });
    return writing;
  };
  // Rendered answers per model and view (pages without a message, JSON), so a cached model answers in
  // the time it takes to send them.
  const rendered = new WeakMap<DashboardModel, Map<string, Promise<string>>>();
  const once = (m: DashboardModel, key: string, render: () => string | Promise<string>): Promise<string> => {
    let views = rendered.get(m);
    if (views === undefined) rendered.set(m, (views = new Map()));
    let r = views.get(key);
    if (r === undefined) views.set(key, (r = Promise.resolve().then(render)));
    return r;
  };

  /**
   * The model to answer with: the cached one while it is current; when the log moved (or the date
   * did) a rebuild starts, one at a time, and until it is done the cached model answers, marked
   * stale (the page says so). Only with nothing cached (the first request, or after an action,
   * whose effect the next page must show) does a request wait for the build: up to `waitMs`, then
   * it is answered with how far the build has read (a 'building' answer).
   */
  const current = async (waitMs = o.buildingAfterMs ?? BUILDING_AFTER_MS): Promise<{ model: DashboardModel; stale: boolean } | { building: Progress }> => {
    await (restoring ??= restore().catch(() => undefined));
    const head = await o.source.head();
    const t = now();
    if (cache !== undefined && cache.restored === undefined && cache.head === head && (o.asOfMs !== undefined || t - cache.builtAtMs <= maxAgeMs)) return { model: cache.model, stale: false };
    const started = cache;
    if (building === undefined) progress = { read: 0, of: head };
    building ??= Promise.resolve(writing)
      .then(() => buildDashboard(o.source, { rules: o.rules, asOfMs: o.asOfMs ?? endOfDay(t) }, folds))
      .then((m) => {
        // An action while this was building emptied the cache: its own build follows.
        if (cache === started) cache = { head: m.head, builtAtMs: t, model: m };
        // After the answers waiting for this build have gone.
        setImmediate(() => saveSnapshot(m, false));
        return m;
      })
      .finally(() => {
        building = undefined;
      });
    if (started !== undefined) {
      // Served from the cache meanwhile; a failed rebuild is tried again by the next request.
      building.catch(() => undefined);
      return { model: started.model, stale: true };
    }
    if (!Number.isFinite(waitMs)) return { model: await building, stale: false };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    const m = await Promise.race([building, late]).finally(() => clearTimeout(timer));
    if (m !== undefined) return { model: m, stale: false };
    // Events the fold has read so far of those the build set out to read (a fold that restarts from nothing counts from 0).
    const fold = folds.current;
    return { building: { read: fold === undefined ? 0 : Math.min(progress.of, fold.foldedHead), of: progress.of } };
  };
  const model = async () => {
    const c = await current(Infinity);
    if ('building' in c) throw new Error('unreachable: an unbounded wait ends with a model');
    return c.model;
  };
  /** A request with no model yet, answered while the first build runs: JSON 503 with Retry-After, a page that reloads itself. */
  const buildingReply = (req: FastifyRequest, reply: FastifyReply, p: Progress) => {
    reply.header('retry-after', String(BUILDING_RETRY_S));
    if (wantsJson(req)) return reply.code(503).type('application/json').send({ building: true, eventsRead: p.read, events: p.of, message: buildingMessage(p) });
    return reply.code(200).header('refresh', String(BUILDING_RETRY_S)).type('text/html; charset=utf-8').send(buildingPage(buildingMessage(p), BUILDING_RETRY_S));
  };

  let ready = o.ready === undefined;
  const readyNow = (o.ready ?? Promise.resolve()).then(() => {
    ready = true;
  });

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Forms post urlencoded bodies; parsed here rather than with another plugin.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const tokenOf = (req: FastifyRequest): { via: 'header' | 'cookie' | 'none'; ok: boolean } => {
    if (o.token === '') return { via: 'none', ok: true };
    const auth = req.headers.authorization;
    if (auth !== undefined) return { via: 'header', ok: sameSecret(auth, `Bearer ${o.token}`) };
    return { via: 'cookie', ok: sameSecret(cookieValue(req.headers.cookie, COOKIE), o.token) };
  };

  const wantsJson = (req: FastifyRequest) => req.url.startsWith('/api/') || (req.headers.accept ?? '').includes('application/json');

  const refuse = (req: FastifyRequest, reply: FastifyReply, code: number, message: string) => {
    if (wantsJson(req) || req.url === '/metrics') return reply.code(code).type('application/json').send({ error: message });
    // The message may quote an id from the address or a header: escaped, it stays text.
    return reply.code(code).type('text/html; charset=utf-8').send(code === 401 ? unauthorizedPage() : `<!DOCTYPE html><title>learnloop · ${code}</title><p>${escapeXml(message)}</p>\n`);
  };

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    const [hostName = ''] = (req.headers.host ?? '').split(/:(?=\d+$)/);
    if (LOOPBACK_HOSTS.has(o.host) && !LOOPBACK_HOSTS.has(hostName)) return refuse(req, reply, 421, `unexpected Host header ${JSON.stringify(req.headers.host ?? '')}`);
    const path = req.url.split('?')[0]!;
    if (path.startsWith('/assets/')) return; // scripts and styles hold no data
    const query = new URLSearchParams(req.url.slice(path.length));
    const given = query.get('token');
    if (given !== null && req.method === 'GET' && o.token !== '' && sameSecret(given, o.token)) {
      // Keep the token in a cookie and drop it from the address bar (and from history).
      query.delete('token');
      const rest = query.toString();
      return reply
        .header('set-cookie', `${COOKIE}=${encodeURIComponent(o.token)}; Path=/; HttpOnly; SameSite=Strict`)
        .redirect(`${path}${rest ? `?${rest}` : ''}`, 303);
    }
    if (!tokenOf(req).ok) return refuse(req, reply, 401, 'missing or wrong token: send Authorization: Bearer <token>, or open the dashboard once with ?token=<token>');
    if (!ready) return refuse(req, reply.header('retry-after', String(BUILDING_RETRY_S)), 503, 'server is starting: try again in a moment');
  });

  const STALE_HEADER = 'x-learnloop-stale';
  for (const [name, path] of VIEWS) {
    app.get(path, async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const flash = q.done ?? q.error ?? '';
      const c = await current();
      if ('building' in c) return buildingReply(req, reply, c.building);
      const { model: m, stale } = c;
      const page = async () => {
        const scoreboardHtml = name === 'overview' ? await once(m, 'scoreboard', () => renderBlocksHtml(scoreboardBlocks(m.overview.scoreboard))) : '';
        return renderPage(name, m, { csrf, flash, flashIsError: q.error !== undefined, scoreboardHtml, stale });
      };
      const html = flash === '' ? await once(m, `page\u0000${name}\u0000${stale}`, page) : await page();
      return reply.type('text/html; charset=utf-8').header(STALE_HEADER, String(stale)).send(html);
    });
    app.get(`/api/v1/${name}`, async (req, reply) => {
      const c = await current();
      if ('building' in c) return buildingReply(req, reply, c.building);
      const { model: m, stale } = c;
      return reply.type('application/json').header(STALE_HEADER, String(stale)).send(await once(m, `json\u0000${name}`, () => renderJson(JSON_VIEWS[name]!(m))));
    });
  }
  app.get('/api/v1/dashboard', async (req, reply) => {
    const c = await current();
    if ('building' in c) return buildingReply(req, reply, c.building);
    const { model: m, stale } = c;
    return reply
      .type('application/json')
      .header(STALE_HEADER, String(stale))
      .send(await once(m, 'json', () => dashboardJson(m)));
  });
  app.get('/assets/:file', async (req, reply) => {
    const a = assets().get((req.params as { file: string }).file);
    if (a === undefined) return reply.code(404).send({ error: 'no such asset' });
    return reply.header('cache-control', 'public, max-age=3600').type(a.type).send(a.body);
  });
  if (o.metrics !== undefined) {
    const registry = o.metrics;
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }

  /** Runs an action from a form or a script; forms get a redirect back with a message. */
  const action = (back: ViewName, run: (id: string, body: Record<string, string>) => Promise<string>) => async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = tokenOf(req);
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    // Same host by either scheme: behind a TLS-terminating proxy the browser's Origin says https.
    const own = ['http', 'https'].map((scheme) => `${scheme}://${req.headers.host ?? ''}`);
    if (origin !== undefined && !own.includes(origin)) return refuse(req, reply, 403, `cross-site request refused (Origin ${origin})`);
    if (site === 'cross-site' || site === 'same-site') return refuse(req, reply, 403, 'cross-site request refused (Sec-Fetch-Site)');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, string>;
    if (auth.via !== 'header') {
      // Ambient credentials (a cookie, or none at all): the request must come from our own page.
      if (origin === undefined && site === undefined) return refuse(req, reply, 403, 'refused: a browser form post must carry its Origin');
      if (!sameSecret(body.csrf, csrf)) return refuse(req, reply, 403, 'refused: missing or wrong csrf field (reload the page)');
    }
    if (o.actions === undefined) return refuse(req, reply, 405, 'this dashboard is read-only');
    // Fastify has decoded the path once, as the page encoded the id once: decoding again would turn
    // the form of a template named "x%40v1" into an action on "x@v1" (and "50%off@v1" into a 500).
    const id = (req.params as { id: string }).id;
    // A browser's form gets a redirect back to the page; a script (Accept: application/json) gets JSON.
    const fromForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') && !wantsJson(req);
    try {
      const done = await run(id, body);
      cache = undefined;
      if (fromForm) return reply.redirect(`${VIEWS.find((v) => v[0] === back)![1]}?done=${encodeURIComponent(done)}`, 303);
      return reply.type('application/json').send({ ok: true, message: done });
    } catch (err) {
      const code = err instanceof InvalidArgument ? 400 : err instanceof NotFound || (err as { code?: string }).code === 'LL_REFINEMENT_NOT_FOUND' ? 404 : typeof (err as { code?: unknown }).code === 'string' ? 409 : 500;
      const message = code === 500 ? 'internal error' : (err as Error).message;
      if (code === 500) o.log?.error({ err, url: req.url }, 'dashboard action failed');
      if (fromForm && code !== 500) return reply.redirect(`${VIEWS.find((v) => v[0] === back)![1]}?error=${encodeURIComponent(message)}`, 303);
      return refuse(req, reply, code, message);
    }
  };
  const field = (b: Record<string, string>, k: string) => (typeof b[k] === 'string' ? b[k].trim() : '');
  const required = (b: Record<string, string>, names: readonly string[]) => {
    const v: Violation[] = names.filter((n) => field(b, n) === '').map((n) => ({ field: n, description: 'is required' }));
    if (v.length > 0) throw new InvalidArgument(v);
  };

  app.post('/refinements/:id/accept', action('refinements', async (id, b) => {
    required(b, ['actor', 'reason', 'new_template_id']);
    const status = field(b, 'status') === 'active' ? 'active' : 'candidate';
    await o.actions!.accept({ refinementId: id, actor: field(b, 'actor'), reason: field(b, 'reason'), newTemplateId: field(b, 'new_template_id'), description: field(b, 'description'), status });
    return `accepted ${id} by ${field(b, 'actor')}: registered ${field(b, 'new_template_id')} (${status})`;
  }));
  app.post('/refinements/:id/reject', action('refinements', async (id, b) => {
    required(b, ['actor', 'reason']);
    await o.actions!.reject({ refinementId: id, actor: field(b, 'actor'), reason: field(b, 'reason') });
    return `rejected ${id} by ${field(b, 'actor')}`;
  }));
  app.post('/templates/:id/retire', action('templates', async (id, b) => {
    required(b, ['actor', 'reason']);
    await o.actions!.retire({ templateId: id, actor: field(b, 'actor'), reason: field(b, 'reason') });
    return `retired ${id} by ${field(b, 'actor')}`;
  }));

  // Fastify's own answer to a request it refused (a bad URL, a body that does not parse: 4xx) names
  // the problem; anything that fails inside is logged here and answered 'internal error', since its
  // message may name the store's paths or carry internal text.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const code = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (code !== 500) return refuse(req, reply, code, err.message);
    o.log?.error({ err, url: req.url }, 'dashboard request failed');
    return refuse(req, reply, 500, 'internal error');
  });

  // A browser gets a page it can leave by the navigation; a script (and any /api/ URL) gets JSON.
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    if (wantsJson(req)) return reply.code(404).type('application/json').send({ error: `no such view: ${req.method} ${path}` });
    return reply.code(404).type('text/html; charset=utf-8').send(notFoundPage(path));
  });

  await app.listen({ host: o.host, port: o.port });
  // A failed warm-up build is reported by the request that retries it.
  if (o.warm !== false) readyNow.then(() => current()).catch(() => undefined);
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  const hostInUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  const close = async () => {
    await app.close();
    // The caller closes the store next: let a build that is reading it finish first.
    await building?.catch(() => undefined);
    await writing;
    if (cache !== undefined) await saveSnapshot(cache.model, true);
  };
  return { port, url: `http://${hostInUrl}:${port}`, app, model, close };
}
