/**
 * The same command on a machine set to another zone or language gives the same bytes: an operator
 * moving a folder (or a cron job) between hosts must not get another week or another run time.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { parseIsoTime, parseTimeText } from '../../src/time.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
/** Zones 0, −5/−4 (a DST change on 2026-03-08), +5:30 and +12:45/+13:45, and languages with their own casing and digits. */
const MACHINES = [
  { TZ: 'UTC', LC_ALL: 'C.UTF-8' },
  { TZ: 'America/New_York', LC_ALL: 'de_DE.UTF-8' },
  { TZ: 'Asia/Kolkata', LC_ALL: 'tr_TR.UTF-8' },
  { TZ: 'Pacific/Chatham', LC_ALL: 'tr_TR.UTF-8' },
];
const cli = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent', LANG: env.LC_ALL, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

const run = (n: number, finishedAt: string) => ({
  bead: `bd-${n}`,
  repo: 'org/app',
  task_class: 'bug-fix',
  template_name: n % 2 === 0 ? 'bug-fix@v1' : 'bug-fix@v2',
  started_at: finishedAt,
  finished_at: finishedAt,
  status: n % 3 === 0 ? 'failed' : 'done',
  attempt: 1,
  exit_code: n % 3 === 0 ? 1 : 0,
  verification: { tests: 'pass' },
});

/** A log of runs either side of 2026-03-08 (New York's change to summer time), every time with its zone. */
function store(env: Record<string, string>, records: object[]): string {
  const dir = tmpDir();
  const file = join(dir, 'runs.jsonl');
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
  cli(env, 'import', 'runs', file, '--db', join(dir, 'db'), '--create', '--no-scan');
  return join(dir, 'db');
}
const zoned = Array.from({ length: 60 }, (_, n) => run(n, new Date(Date.UTC(2026, 1, 20) + n * 9 * 3_600_000).toISOString()));

describe('a time without a zone is UTC on every machine, as a date alone is', () => {
  /** Runs f with the process in each zone (Node applies a TZ set at run time), and gives back what it returned. */
  const inEveryZone = <T>(f: () => T): T[] => {
    const saved = process.env.TZ;
    try {
      return MACHINES.map(({ TZ }) => {
        process.env.TZ = TZ;
        return f();
      });
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  };

  test.each([
    ['2026-03-08T01:30:00', '2026-03-08T01:30:00.000Z'],
    ['2026-03-08 01:30', '2026-03-08T01:30:00.000Z'],
    ['2026-03-08T01:30:00.123456', '2026-03-08T01:30:00.123Z'],
    ['2026-03-08T24:00', '2026-03-09T00:00:00.000Z'],
    ['2026-03-08T01:30:00+05:30', '2026-03-07T20:00:00.000Z'],
    ['2026-03-08T01:30-0400', '2026-03-08T05:30:00.000Z'],
    ['1970-01-01T00:00:00', '1970-01-01T00:00:00.000Z'],
    ['0050-06-01T00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('--as-of %s is %s in every zone', (text, iso) => {
    for (const ms of inEveryZone(() => parseIsoTime(text, 'end'))) expect(new Date(ms!).toISOString()).toBe(iso);
  });

  test.each(['2026-03-08T25:00', '2026-03-08T12:60', '2026-03-08T23:59:60Z', '2026-03-08Tnoon', '2026-03-08+05:00', '2026-02-29T00:00Z', '2026-03-08T12:00+24:00'])('%s is not a time', (text) => {
    expect(parseIsoTime(text, 'start')).toBeUndefined();
  });

  test.each([
    ['Sun, 08 Mar 2026 01:30:00', '2026-03-08T01:30:00.000Z'],
    ['Mar 8 2026 01:30', '2026-03-08T01:30:00.000Z'],
    ['Sun, 08 Mar 2026 03:30:00 +0200', '2026-03-08T01:30:00.000Z'],
    ['Sun, 08 Mar 2026 01:30:00 GMT', '2026-03-08T01:30:00.000Z'],
    ['Sat, 07 Mar 2026 20:30:00 EST', '2026-03-08T01:30:00.000Z'],
  ])('a record time %j is %s in every zone', (text, iso) => {
    for (const ms of inEveryZone(() => parseTimeText(text))) expect(new Date(ms!).toISOString()).toBe(iso);
  });

  test('report weekly --as-of a zone-less time: the same bytes in UTC and at Chatham (+13:45), and that moment in UTC', () => {
    const db = store(MACHINES[0]!, zoned);
    const [utc, chatham] = [MACHINES[0]!, MACHINES[3]!].map((env) => cli(env, 'report', 'weekly', '--as-of', '2026-03-08 01:30', '--db', db));
    expect(chatham).toBe(utc);
    expect(utc).toContain('as of 2026-03-08 01:30 UTC');
  });

  test('import runs reads record times without a zone (ISO or RFC 2822) as UTC whatever the machine zone', () => {
    const records = [run(1, '2026-03-08T01:30:00'), { ...run(2, 'Sun, 08 Mar 2026 01:30:00'), started_at: 'Sun, 08 Mar 2026 01:00:00' }, run(3, 'Sun, 08 Mar 2026 03:30:00 +0200')];
    const finished = [MACHINES[0]!, MACHINES[2]!].map((env) => {
      const events = cli(env, 'export', '--db', store(env, records)).trim().split('\n').map((l) => JSON.parse(l) as { type: string; content?: { runId: string; finishedAtMs: number } });
      return events.filter((e) => e.type === 'observation').map((e) => [e.content!.runId, new Date(e.content!.finishedAtMs).toISOString()]);
    });
    expect(finished[1]).toEqual(finished[0]);
    expect(finished[0]!.map(([, at]) => at)).toEqual(['2026-03-08T01:30:00.000Z', '2026-03-08T01:30:00.000Z', '2026-03-08T01:30:00.000Z']);
  });
});

describe('a --db folder named like a file (learnloop.db, data.v2) is a folder on every machine', () => {
  test('--create makes a folder, later commands read it; a store an earlier version kept in a file is named as such', () => {
    const parent = tmpDir();
    const db = join(parent, 'learnloop.db');
    cli(MACHINES[0]!, 'templates', 'register', 'a@v1', '--db', db, '--create');
    expect(readdirSync(db).sort()).toEqual(['data.mdb', 'lock.mdb']);
    expect(cli(MACHINES[0]!, 'templates', 'list', '--db', db)).toContain('a@v1');
    // What an earlier version left: the data file at the path, its lock beside it.
    renameSync(join(db, 'data.mdb'), join(parent, 'old.db'));
    writeFileSync(join(parent, 'old.db-lock'), '');
    const r = spawnSync(process.execPath, [BIN, 'templates', 'list', '--db', join(parent, 'old.db')], { encoding: 'utf8', env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`not a folder (it is a file); it looks like a store an earlier learnloop kept in a file: move it into a folder (mkdir D && mv ${join(parent, 'old.db')} D/data.mdb)`);
  });
});
