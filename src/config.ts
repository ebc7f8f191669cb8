import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, validatePolicyConfig, type DecayConfig, type Limits, type PolicyConfig } from './bandit/index.js';

/** `postgres://` or `postgresql://`: the store is PostgreSQL. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

// PostgreSQL indexes a template's counts under (template_id, task_class, repo) and a btree row holds
// at most 2,704 bytes: three ids of 297 three-byte characters fit, of 298 do not (measured).
const PG_MAX_ID_LENGTH = 297;

/** Everything the service reads from the environment and flags, parsed once and frozen. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dbPath: string;
  /** Bearer token required on write RPCs; empty disables the check. */
  readonly token: string;
  /** Bearer token required on read RPCs (--read-token, or --token under --protect-reads); empty leaves reads open. */
  readonly readToken: string;
  readonly tlsCertPath: string;
  readonly tlsKeyPath: string;
  readonly logLevel: string;
  /** Port of the Prometheus /metrics endpoint; 0 disables it. */
  readonly metricsPort: number;
  /** Port of the dashboard's HTTP server (pages, JSON, /metrics); 0 disables it under `serve`. */
  readonly httpPort: number;
  /** Largest request message, in bytes. */
  readonly maxMessageBytes: number;
  /** How long shutdown waits for in-flight calls, in ms. */
  readonly shutdownGraceMs: number;
  readonly limits: Limits;
  readonly policy: PolicyConfig;
}

/** Flag values as the command line parsed them (strings, or undefined when absent). */
export type Flags = Readonly<Record<string, string | undefined>>;

/** One configuration setting: flag name, environment variable, default, meaning (the README table). */
export const SETTINGS = [
  ['host', 'LEARNLOOP_HOST', '127.0.0.1', 'Address to listen on.'],
  ['port', 'LEARNLOOP_PORT', '50051', 'gRPC port (0 picks a free one).'],
  ['db', 'LEARNLOOP_DB', './data', 'the store: an LMDB folder (serve creates it if missing; other commands need --create), or a postgres:// URL'],
  ['token', 'LEARNLOOP_TOKEN', '', 'Bearer token required on Recommend, Observe, RegisterTemplate and DecideRefinement, and on every dashboard page, JSON URL and action; empty = no auth.'],
  ['read-token', 'LEARNLOOP_READ_TOKEN', '', 'Bearer token required on ListTemplates, GetScores and ListRefinements; empty = reads open (unless --protect-reads).'],
  ['protect-reads', 'LEARNLOOP_PROTECT_READS', 'false', 'Require --token on reads too (when --read-token is empty).'],
  ['tls-cert', 'LEARNLOOP_TLS_CERT', '', 'PEM certificate; with --tls-key, serve TLS.'],
  ['tls-key', 'LEARNLOOP_TLS_KEY', '', 'PEM private key.'],
  ['log-level', 'LEARNLOOP_LOG_LEVEL', 'info', 'pino level: trace, debug, info, warn, error, fatal, silent.'],
  ['metrics-port', 'LEARNLOOP_METRICS_PORT', '0', 'Prometheus /metrics HTTP port; 0 = off.'],
  ['http-port', 'LEARNLOOP_HTTP_PORT', '0', 'Dashboard HTTP port (pages, JSON views, actions, /metrics); 0 = off under serve, a free port under dashboard.'],
  ['max-message-bytes', 'LEARNLOOP_MAX_MESSAGE_BYTES', '4194304', 'Largest request message.'],
  ['max-candidates', 'LEARNLOOP_MAX_CANDIDATES', '1000', 'Most candidates one Recommend may name.'],
  ['max-id-length', 'LEARNLOOP_MAX_ID_LENGTH', '256', 'Longest id-like string field, in characters (and 3 UTF-8 bytes per character of it); at most 297 on PostgreSQL.'],
  ['max-text-length', 'LEARNLOOP_MAX_TEXT_LENGTH', '8192', 'Longest free-text field (failure_reason, reason, description).'],
  ['max-future-skew-ms', 'LEARNLOOP_MAX_FUTURE_SKEW_MS', '300000', 'How far past the server clock an Observe\'s finished_at may be.'],
  ['strict-templates', 'LEARNLOOP_STRICT_TEMPLATES', 'false', 'Reject template ids no one registered (true) instead of registering them as implicit candidates.'],
  ['max-templates', 'LEARNLOOP_MAX_TEMPLATES', '100000', 'Most templates a folder may hold.'],
  ['max-new-templates-per-call', 'LEARNLOOP_MAX_NEW_TEMPLATES_PER_CALL', '100', 'Most unknown template ids one Recommend may register implicitly.'],
  ['partial-reward', 'LEARNLOOP_PARTIAL_REWARD', '0.5', 'Reward of OUTCOME_PARTIAL, in [0, 1].'],
  ['task-class-pool-strength', 'LEARNLOOP_TASK_CLASS_POOL_STRENGTH', '20', 'With --empirical-bayes-pooling false: most pseudo-runs a template\'s global record lends a task class.'],
  ['repo-pool-strength', 'LEARNLOOP_REPO_POOL_STRENGTH', '10', 'With --empirical-bayes-pooling false: most pseudo-runs a task class lends one repository.'],
  ['parent-strength', 'LEARNLOOP_PARENT_STRENGTH', '10', 'Most pseudo-runs a new version takes from its parent (never its parent\'s failures: the better of its parent\'s mean and the base prior\'s).'],
  ['trial-runs', 'LEARNLOOP_TRIAL_RUNS', '10', 'Runs of its own a new version (a template with a parent) is guaranteed a trial for.'],
  ['trial-share', 'LEARNLOOP_TRIAL_SHARE', '0.1', 'Share of the decisions a new version on trial is a candidate in that try it, in [0, 1).'],
  ['empirical-bayes', 'LEARNLOOP_EMPIRICAL_BAYES', 'true', 'Fit the base prior across candidates (true/false).'],
  ['empirical-bayes-pooling', 'LEARNLOOP_EMPIRICAL_BAYES_POOLING', 'true', 'Fit pooling strengths from the data (true) or use the fixed pool strengths (false).'],
  ['satisficing-tolerance', 'LEARNLOOP_SATISFICING_TOLERANCE', '0.25', 'Pick the highest-mean template among those whose draw is within this many prior sds of the best draw (at 8 candidates; grows with ln(candidates)); 0 = plain Thompson sampling.'],
  ['decay-half-life', 'LEARNLOOP_DECAY_HALF_LIFE', '', 'Forget old evidence: e.g. "30d" or "200runs"; empty = never.'],
  ['summary-samples', 'LEARNLOOP_SUMMARY_SAMPLES', '2000', 'Monte Carlo draws per candidate for prob_best and the lift interval.'],
  ['shutdown-grace-ms', 'LEARNLOOP_SHUTDOWN_GRACE_MS', '10000', 'How long shutdown waits for in-flight calls.'],
] as const;

type SettingName = (typeof SETTINGS)[number][0];

/** Raised with every configuration problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Reads flags, then environment variables, then defaults, and validates them all.
 * @throws ConfigError listing every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Flags = {}): Config {
  const problems: string[] = [];
  const raw = (name: SettingName): string => {
    const [, envName, fallback] = SETTINGS.find((s) => s[0] === name)!;
    return flags[name] ?? env[envName] ?? fallback;
  };
  const num = (name: SettingName, opts: { integer?: boolean; min?: number; max?: number } = {}): number => {
    const text = raw(name);
    const v = Number(text);
    const { integer = false, min = -Infinity, max = Infinity } = opts;
    if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      problems.push(`--${name}: must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]; got ${JSON.stringify(text)}`);
      return 0;
    }
    return v;
  };
  const bool = (name: SettingName): boolean => {
    const text = raw(name).toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    problems.push(`--${name}: must be true or false; got ${JSON.stringify(text)}`);
    return false;
  };

  const decay = parseDecay(raw('decay-half-life'), problems);
  const policy: PolicyConfig = Object.freeze({
    ...DEFAULT_POLICY_CONFIG,
    partialReward: num('partial-reward', { min: 0, max: 1 }),
    taskClassPoolStrength: num('task-class-pool-strength', { min: 0 }),
    repoPoolStrength: num('repo-pool-strength', { min: 0 }),
    parentStrength: num('parent-strength', { min: 0 }),
    trialRuns: num('trial-runs', { integer: true, min: 0 }),
    trialShare: num('trial-share', { min: 0, max: 0.99 }),
    empiricalBayes: bool('empirical-bayes'),
    empiricalBayesPooling: bool('empirical-bayes-pooling'),
    satisficingTolerance: num('satisficing-tolerance', { min: 0, max: 2 }),
    decay,
    summarySamples: num('summary-samples', { integer: true, min: 100, max: 1_000_000 }),
    maxCandidates: num('max-candidates', { integer: true, min: 1, max: 100_000 }),
  });
  if (problems.length === 0) problems.push(...validatePolicyConfig(policy).map((v) => `policy.${v.field}: ${v.description}`));
  const limits: Limits = Object.freeze({
    ...DEFAULT_LIMITS,
    maxCandidates: policy.maxCandidates,
    maxIdLength: num('max-id-length', { integer: true, min: 1, max: 65536 }),
    maxTextLength: num('max-text-length', { integer: true, min: 1, max: 1 << 20 }),
    maxFutureSkewMs: num('max-future-skew-ms', { integer: true, min: 0 }),
    strictTemplates: bool('strict-templates'),
    maxTemplates: num('max-templates', { integer: true, min: 1 }),
    maxNewTemplatesPerCall: num('max-new-templates-per-call', { integer: true, min: 0 }),
  });
  const token = raw('token');
  let readToken = raw('read-token');
  const protectReads = bool('protect-reads');
  if (readToken === '' && protectReads) {
    if (token === '') problems.push('--protect-reads: needs --token (or give --read-token)');
    readToken = token;
  }
  const tlsCertPath = raw('tls-cert');
  const tlsKeyPath = raw('tls-key');
  if ((tlsCertPath === '') !== (tlsKeyPath === '')) problems.push('--tls-cert and --tls-key: give both or neither');
  const logLevel = raw('log-level');
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    problems.push(`--log-level: must be one of trace, debug, info, warn, error, fatal, silent; got ${JSON.stringify(logLevel)}`);
  }
  const dbPath = raw('db');
  if (dbPath === '') problems.push('--db: must name a folder or a postgres:// URL');
  if (isPostgresUrl(dbPath) && limits.maxIdLength > PG_MAX_ID_LENGTH) {
    problems.push(`--max-id-length: at most ${PG_MAX_ID_LENGTH} with a PostgreSQL store (an index row there holds three ids of up to 3 UTF-8 bytes a character); got ${limits.maxIdLength}`);
  }
  const config: Config = Object.freeze({
    host: raw('host'),
    port: num('port', { integer: true, min: 0, max: 65535 }),
    dbPath,
    token,
    readToken,
    tlsCertPath,
    tlsKeyPath,
    logLevel,
    metricsPort: num('metrics-port', { integer: true, min: 0, max: 65535 }),
    httpPort: num('http-port', { integer: true, min: 0, max: 65535 }),
    maxMessageBytes: num('max-message-bytes', { integer: true, min: 1024, max: 1 << 30 }),
    shutdownGraceMs: num('shutdown-grace-ms', { integer: true, min: 0 }),
    limits,
    policy,
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function parseDecay(text: string, problems: string[]): DecayConfig | null {
  if (text.trim() === '') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|days?|runs?)\s*$/i.exec(text);
  if (m === null || !(Number(m[1]) > 0)) {
    problems.push(`--decay-half-life: must look like "30d" or "200runs"; got ${JSON.stringify(text)}`);
    return null;
  }
  return { halfLife: Number(m[1]), unit: m[2]!.toLowerCase().startsWith('d') ? 'days' : 'runs' };
}
