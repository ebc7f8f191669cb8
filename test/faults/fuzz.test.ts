/**
 * Fuzzes every RPC of a real server on port 0 with seeded requests: random bytes, mutated valid
 * bodies, and messages built field by field from the served descriptors with hostile values
 * (multi-byte and invalid UTF-8, lengths at the limits ± 1, NaN/±Infinity, unknown enums, out-of-range
 * times, wrong wire types), alone or one hostile value in many fields at once, some with 1 ms
 * deadlines and some without the token. Every answer must be a deliberate status (never INTERNAL,
 * UNKNOWN or a hang), the server must stay up, and a call that fails must leave the event log's
 * head where it was.
 */
import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorSetSchema, type DescriptorProto, type FieldDescriptorProto } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { createRng } from '../../src/bandit/index.js';
import { loadConfig } from '../../src/config.js';
import { DESCRIPTOR_SET } from '../../src/paths.js';
import { Outcome } from '../../src/index.js';
import { startTestServer } from '../helpers/server.js';

const SEED = process.env.FUZZ_SEED ?? '20261202';
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const TOKEN = 'fuzz-token';
const SERVICE = '/learnloop.v1.LearnLoopService';
const RPCS = ['Recommend', 'Observe', 'RegisterTemplate', 'ListTemplates', 'GetScores', 'ListRefinements', 'DecideRefinement'] as const;
const READS: ReadonlySet<string> = new Set(['ListTemplates', 'GetScores', 'ListRefinements']);
const LIMITS = loadConfig({}, { db: 'unused' }).limits;
const ID_MAX = LIMITS.maxIdLength;
const TEXT_MAX = LIMITS.maxTextLength;

const file = fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET)).file.find((f) => f.package === 'learnloop.v1')!;
const messages = new Map(file.messageType.map((m) => [m.name, m]));

const rng = createRng(`fuzz:${SEED}`);
const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
const chance = (p: number) => rng.next() < p;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Ids the seeded folder holds, so some requests reach the deeper paths (duplicates, conflicts, known decisions). */
const known = { templates: ['base@v1', 'base@v2'], runs: ['seed-run'], decisions: [] as string[], requests: ['seed-req'] };

/** Hostile and ordinary string bytes: multi-byte at the limits ± 1, invalid UTF-8, control characters, known ids. */
const HOSTILE_STRINGS: ReadonlyArray<() => Buffer> = [
  () => Buffer.alloc(0),
  () => utf8(`id-${int(0, 50)}`),
  () => utf8(pick(['x', '€', 'é']).repeat(ID_MAX + int(-1, 1))),
  () => utf8('€'.repeat(ID_MAX)), // the largest id in bytes (3 per character)
  () => utf8('😀'.repeat((ID_MAX * 3) / 4 + int(-1, 1))), // 4 bytes each: the byte limit (3 per character of the limit) ± 1
  () => utf8(pick(['r', '€']).repeat(TEXT_MAX + int(-1, 1))),
  () => Buffer.concat([utf8('u-'), Buffer.from([pick([0xff, 0xfe, 0x80, 0xc0, 0xc1, 0xf5])])]), // never valid UTF-8
  () => Buffer.concat([utf8('t-'), Buffer.from([0xe2, 0x82])]), // a truncated '€'
  () => Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8 (invalid)
  () => utf8(`c-${String.fromCharCode(int(0, 31))}`),
  () => utf8('\uFEFF\uFFFD'),
  () => utf8(pick([...known.templates, ...known.runs, ...known.decisions, ...known.requests])),
  () => utf8(`${pick(known.templates)}#${int(0, 3)}`),
  () => utf8(pick(['y', '€']).repeat(int(1000, 20_000))),
  () => Buffer.from(Array.from({ length: int(1, 12) }, () => int(0, 255))),
];

/** The message's theme: most hostile strings in one message come from one generator, often the very same value (faults that need several long fields at once). */
let theme: { gen: () => Buffer; value: Buffer } = { gen: HOSTILE_STRINGS[0]!, value: Buffer.alloc(0) };
function newTheme(): void {
  const gen = pick(HOSTILE_STRINGS);
  theme = { gen, value: gen() };
}

function stringBytes(): Buffer {
  const r = rng.next();
  if (r < 0.4) return theme.value;
  if (r < 0.7) return theme.gen();
  return pick(HOSTILE_STRINGS)();
}

function varint(): number {
  return pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 1000, 1001, 999, 1_000_000, 1_000_001, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, -1, -(2 ** 31)]);
}

function double(): number {
  return pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, -1, -1e-9, 0, 3.5, 1e308, Number.MIN_VALUE]);
}

function timestamp(w: BinaryWriter): void {
  const now = Math.floor(Date.now() / 1000);
  const seconds = pick([0, -1, now, now + 299, now + 301, now + 86_400 * 365, 253402300799, 253402300800, -62135596800, 2 ** 40]);
  w.fork();
  w.tag(1, WireType.Varint).int64(seconds);
  if (chance(0.5)) w.tag(2, WireType.Varint).int32(pick([0, 1, 999_999_999, 1_000_000_000, -1]));
  w.join();
}

let fresh = 0;

/** An ordinary value for the field, so near-valid requests get past validation to the deeper paths. */
function writeSane(w: BinaryWriter, f: FieldDescriptorProto): void {
  switch (f.type) {
    case FieldDescriptorProto_Type.STRING:
      if (f.name === 'decision_id') w.tag(f.number, WireType.LengthDelimited).string(pick(['', '', '', ...known.decisions, 'no-such-decision']));
      else w.tag(f.number, WireType.LengthDelimited).string(chance(0.5) ? `id-${fresh++}` : pick([...known.templates, `t-${int(0, 20)}@v1`, '']));
      return;
    case FieldDescriptorProto_Type.DOUBLE:
      w.tag(f.number, WireType.Bit64).double(int(0, 600) / 2);
      return;
    case FieldDescriptorProto_Type.ENUM:
      w.tag(f.number, WireType.Varint).int32(int(1, 2));
      return;
    case FieldDescriptorProto_Type.MESSAGE:
      w.tag(f.number, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(Math.floor(Date.now() / 1000) - int(0, 86_400)).join();
      return;
    default:
      w.tag(f.number, WireType.Varint).uint32(int(0, 3));
  }
}

/** One hostile value for the field, usually with the right wire type, sometimes the wrong one. */
function writeField(w: BinaryWriter, f: FieldDescriptorProto): void {
  if (chance(0.03)) {
    // The wrong wire type for this field number.
    if (f.type === FieldDescriptorProto_Type.STRING || f.type === FieldDescriptorProto_Type.MESSAGE) w.tag(f.number, WireType.Varint).uint32(int(0, 300));
    else w.tag(f.number, WireType.LengthDelimited).bytes(stringBytes());
    return;
  }
  switch (f.type) {
    case FieldDescriptorProto_Type.STRING:
      w.tag(f.number, WireType.LengthDelimited).bytes(stringBytes());
      return;
    case FieldDescriptorProto_Type.DOUBLE:
      w.tag(f.number, WireType.Bit64).double(double());
      return;
    case FieldDescriptorProto_Type.ENUM:
      w.tag(f.number, WireType.Varint).int32(pick([0, 1, 2, 3, 4, 5, 6, 7, 99, -1, 2 ** 31 - 1]));
      return;
    case FieldDescriptorProto_Type.MESSAGE:
      w.tag(f.number, WireType.LengthDelimited);
      timestamp(w);
      return;
    default: {
      const v = varint();
      w.tag(f.number, WireType.Varint);
      if (v < 0) w.int32(v);
      else w.uint64(v);
    }
  }
}

/**
 * A message of `type` with a random subset of its fields (repeated ones 0 to limit + 1 times), each
 * hostile with probability `hostility`, else ordinary.
 */
function message(type: DescriptorProto, hostility: number, themed = false): Buffer {
  newTheme();
  const w = new BinaryWriter();
  const write = (f: FieldDescriptorProto) => {
    // Themed: one hostile value in many string fields at once (say every id at its limit in
    // 3-byte characters), everything else ordinary, decision_id left to the decision-free path.
    if (themed) {
      if (f.type === FieldDescriptorProto_Type.STRING && f.name !== 'decision_id' && chance(hostility)) w.tag(f.number, WireType.LengthDelimited).bytes(theme.value);
      else writeSane(w, f);
    } else if (chance(hostility)) writeField(w, f);
    else writeSane(w, f);
  };
  for (const f of type.field) {
    if (f.label === FieldDescriptorProto_Label.REPEATED) {
      // Now and then a list at the candidate limit ± 1, usually of fresh ids (past the per-call registration limit).
      const n = chance(0.02) ? LIMITS.maxCandidates + int(-2, 1) : int(0, 6);
      const clean = chance(0.7);
      for (let i = 0; i < n; i++) {
        if (n > 10 && (clean || !chance(0.01))) w.tag(f.number, WireType.LengthDelimited).string(`many-${i}`);
        else write(f);
      }
    } else if (chance(themed ? 0.95 : 0.8)) write(f);
  }
  return Buffer.from(w.finish());
}

/** A valid body, then bytes flipped, cut, duplicated or spliced in. */
function mutate(body: Buffer): Buffer {
  const b = Buffer.from(body);
  switch (int(0, 3)) {
    case 0: for (let i = int(1, 4); i > 0 && b.length > 0; i--) b[int(0, b.length - 1)] = int(0, 255); return b;
    case 1: return b.subarray(0, int(0, b.length));
    case 2: return Buffer.concat([b, b]);
    default: return Buffer.concat([b.subarray(0, int(0, b.length)), Buffer.from(Array.from({ length: int(1, 8) }, () => int(0, 255)))]);
  }
}

function body(rpc: (typeof RPCS)[number]): Buffer {
  const type = messages.get(`${rpc}Request`)!;
  const r = rng.next();
  if (r < 0.1) return Buffer.from(Array.from({ length: int(0, 64) }, () => int(0, 255)));
  if (r < 0.25) return mutate(message(type, 0.3));
  if (r < 0.45) return message(type, 0.1);
  if (r < 0.7) return message(type, 0.7, true);
  return message(type, 1);
}

const identity = (b: Buffer) => b;

function call(client: Client, rpc: string, req: Buffer, md: Metadata, deadlineMs: number): Promise<{ code: number; reply?: Buffer; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(`${SERVICE}/${rpc}`, identity, identity, req, md, { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, reply?: Buffer) =>
      resolve(err === null ? { code: status.OK, details: '', ...(reply ? { reply } : {}) } : { code: err.code, details: err.details }),
    );
  });
}

describe('fuzz: every RPC, seeded', () => {
  test(`${REQUESTS} hostile requests: never INTERNAL or UNKNOWN, server up throughout, failed calls change nothing (seed ${SEED})`, async () => {
    // Few Monte Carlo draws: the fuzzer is about input handling, not about the statistics.
    const ts = await startTestServer({ token: TOKEN, 'protect-reads': 'true', 'summary-samples': '100' }, { token: TOKEN });
    const store = ts.server.store;
    const head = async () => Number(await store.head());
    // A little state, so some requests hit duplicates, conflicts and known decisions.
    await ts.client.registerTemplate({ templateId: 'base@v1' });
    await ts.client.registerTemplate({ templateId: 'base@v2', parentTemplateId: 'base@v1' });
    await ts.client.observe({ runId: 'seed-run', templateId: 'base@v1', outcome: Outcome.OUTCOME_PASS, durationSeconds: 5 });
    const d = await ts.client.recommend({ requestId: 'seed-req', candidateTemplateIds: ['base@v1', 'base@v2'] });
    known.decisions.push(d.decisionId);

    // Every request is drawn up front from the seed, so a failure names a reproducible request.
    const requests = Array.from({ length: REQUESTS }, (_, i) => {
      const rpc = pick(RPCS);
      const req = body(rpc);
      const md = new Metadata();
      const auth = rng.next();
      if (auth < 0.9) md.set('authorization', `Bearer ${TOKEN}`);
      else if (auth < 0.95) md.set('authorization', pick(['Bearer wrong', 'bearer fuzz-token', `Bearer ${TOKEN} `, 'x']));
      return { i, rpc, req, md, deadlineMs: chance(0.05) ? 1 : 10_000 };
    });
    const raw = new Client(ts.addr, credentials.createInsecure());
    const counts = new Map<string, number>();
    const bad: string[] = [];
    const send = async (r: (typeof requests)[number]) => {
      const res = await call(raw, r.rpc, r.req, r.md, r.deadlineMs);
      const key = `${r.rpc} ${status[res.code]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      // A 10 s deadline passing is a hang, not an answer.
      const hung = res.code === status.DEADLINE_EXCEEDED && r.deadlineMs > 1;
      if (hung || res.code === status.INTERNAL || res.code === status.UNKNOWN || res.code === status.UNAVAILABLE) {
        bad.push(`#${r.i} ${r.rpc} -> ${status[res.code]} ${res.details} body=${r.req.toString('base64').slice(0, 200)}`);
      }
      return res;
    };
    const stillServes = async (tag: string) => {
      expect((await ts.client.observe({ runId: `alive-${tag}`, templateId: 'base@v1', outcome: Outcome.OUTCOME_PASS })).applied).toBe(true);
    };
    try {
      // Writes one at a time, so each rejected one can be held to the head it found.
      const writes = requests.filter((r) => !READS.has(r.rpc) && r.deadlineMs > 1);
      for (const [n, r] of writes.entries()) {
        const before = await head();
        const res = await send(r);
        const after = await head();
        if (res.code !== status.OK && after !== before) bad.push(`#${r.i} ${r.rpc} -> ${status[res.code]} moved the head from ${before} to ${after}`);
        if (bad.length > 20) break;
        if (n % 1000 === 999) await stillServes(`w${n}`);
      }
      // Calls with 1 ms deadlines, eight at a time: they may still finish on the server after the
      // client gave up, so they are held only to their statuses; then the server settles.
      const short = requests.filter((r) => r.deadlineMs === 1);
      for (let n = 0; n < short.length && bad.length <= 20; n += 8) await Promise.all(short.slice(n, n + 8).map(send));
      for (let h = await head(), stable = 0; stable < 10; stable++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const next = await head();
        if (next !== h) [h, stable] = [next, 0];
      }
      // Reads, eight at a time (a dashboard's load): none may move the head.
      const reads = requests.filter((r) => READS.has(r.rpc) && r.deadlineMs > 1);
      const beforeReads = await head();
      for (let n = 0; n < reads.length && bad.length <= 20; n += 8) await Promise.all(reads.slice(n, n + 8).map(send));
      if ((await head()) !== beforeReads) bad.push(`reads moved the head from ${beforeReads} to ${await head()}`);
      await stillServes('end');
    } finally {
      raw.close();
    }
    if (process.env.FUZZ_VERBOSE) console.log(Object.fromEntries(counts));
    expect(bad).toEqual([]);
    // The fuzzer reached more than the decoder: every RPC answered both OK and INVALID_ARGUMENT at least once.
    for (const rpc of RPCS) {
      expect(counts.get(`${rpc} INVALID_ARGUMENT`) ?? 0, `${rpc} INVALID_ARGUMENT`).toBeGreaterThan(0);
    }
    for (const k of ['Observe OK', 'Recommend OK', 'Observe ALREADY_EXISTS', 'Recommend RESOURCE_EXHAUSTED', 'DecideRefinement NOT_FOUND']) expect(counts.get(k) ?? 0, k).toBeGreaterThan(0);
    expect([...counts.keys()].some((k) => k.endsWith('UNAUTHENTICATED'))).toBe(true);
    expect([...counts.keys()].some((k) => k.endsWith('DEADLINE_EXCEEDED'))).toBe(true);
    const health = await ts.client.listTemplates({});
    expect(health.templates.length).toBeGreaterThan(0);
  }, 900_000);
});
