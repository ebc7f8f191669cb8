import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { openStore } from '../../src/compose.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { tmpDir } from '../helpers/tmp.js';
import { fixtureLog } from '../reports/fixture-log.js';
import { obs } from '../store/contract.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent' } });
  if (r.status !== 0) throw new Error(`learnloop ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
};

/** Every read-only output a person or a script gets from a store, by command. */
function outputs(db: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const report of ['scores', 'trend', 'failures', 'weekly']) {
    for (const format of ['md', 'json', 'html']) out[`report ${report} ${format}`] = cli('report', report, '--format', format, '--as-of', '2026-03-01', '--db', db);
  }
  out['report lift'] = cli('report', 'lift', '--json', '--db', db);
  out['refinements list'] = cli('refinements', 'list', '--json', '--db', db);
  out['templates list'] = cli('templates', 'list', '--json', '--db', db);
  out.scores = cli('scores', '--task-class', 'bug-fix', '--json', '--db', db);
  return out;
}

async function derived(db: string) {
  const store = await openStore(db, { policy: DEFAULT_POLICY_CONFIG, onPolicyChange: 'adopt' });
  try {
    return await store.derivedSnapshot();
  } finally {
    await store.close();
  }
}

describePg('moving a history between LMDB and PostgreSQL', () => {
  test('export | import events: LMDB -> PostgreSQL -> LMDB gives the same log, derived state and every report, byte for byte', async () => {
    // A history with every kind of event: registrations with parents, imported runs, decisions,
    // refinement items opened, one accepted (registering a new version) and one rejected.
    const folder = tmpDir();
    const { store, ll, queue } = await fixtureLog(folder);
    for (let i = 0; i < 20; i++) {
      const d = await ll.recommend({ taskClass: 'bug-fix', repo: i % 2 ? 'org/app' : '', candidateTemplateIds: [], topK: 0, requestId: `q${i}` });
      // Outcomes of the decisions, so `report lift` has something to join.
      await ll.observe(obs(`decided-${i}`, '', i % 3 ? 'pass' : 'fail', { decisionId: d.decision.decisionId, taskClass: '', repo: '' }));
    }
    const open = await queue.list('open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    await queue.accept({ refinementId: open[0]!.refinementId, actor: 'ana', reason: 'tests first', newTemplateId: 'moved@v2', description: 'x', status: 'active' });
    for (const item of open.slice(1)) await queue.reject({ refinementId: item.refinementId, actor: 'ana', reason: 'noise' });
    await store.close();

    const dir = tmpDir();
    const fromLmdb = cli('export', '--db', folder);
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, fromLmdb);
    const lines = fromLmdb.trimEnd().split('\n');
    expect(new Set(lines.map((l) => JSON.parse(l).type))).toEqual(new Set(['template', 'observation', 'decision', 'refinement_opened', 'refinement_decided']));

    const pg = await freshPgDatabase();
    expect(JSON.parse(cli('import', 'events', file, '--db', pg, '--create', '--json'))).toEqual({ imported: lines.length, alreadyThere: 0, head: lines.length });
    expect(cli('export', '--db', pg)).toBe(fromLmdb);
    expect(await derived(pg)).toEqual(await derived(folder));
    const reports = outputs(folder);
    expect(outputs(pg)).toEqual(reports);

    // Rebuild on PostgreSQL equals its live state.
    const live = await derived(pg);
    expect(JSON.parse(cli('rebuild', '--db', pg, '--json')).events).toBe(lines.length);
    expect(await derived(pg)).toEqual(live);

    // And back into a new folder.
    const back = tmpDir();
    const again = join(dir, 'again.jsonl');
    writeFileSync(again, cli('export', '--db', pg));
    cli('import', 'events', again, '--db', back, '--create');
    expect(cli('export', '--db', back)).toBe(fromLmdb);
    expect(await derived(back)).toEqual(live);
    // About 40 command runs, each a fresh Node process: minutes on a busy 2-core machine.
  }, 300_000);

  test('import events checks the whole file first, resumes a cut-off import, and refuses a store with another history', async () => {
    const dir = tmpDir();
    const src = tmpDir();
    const { store } = await fixtureLog(src);
    await store.close();
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, cli('export', '--db', src));
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const pg = await freshPgDatabase();

    // A file with a gap, or a line that is no event, writes nothing.
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, [...lines.slice(0, 5), ...lines.slice(6)].join('\n'));
    const gap = spawnSync(process.execPath, [BIN, 'import', 'events', broken, '--db', pg, '--create'], { encoding: 'utf8' });
    expect(gap.status).toBe(2);
    expect(gap.stderr).toContain('broken.jsonl:6: seq 7 where 6 was expected');
    writeFileSync(broken, `${lines[0]}\n{"runId":"r1"}\n`);
    expect(spawnSync(process.execPath, [BIN, 'import', 'events', broken, '--db', pg, '--create'], { encoding: 'utf8' }).stderr).toContain('broken.jsonl:2: not a learnloop event');
    // Nothing was made in the database: a command that only reads finds no store there.
    const nothing = spawnSync(process.execPath, [BIN, 'export', '--db', pg], { encoding: 'utf8' });
    expect([nothing.status, nothing.stdout, nothing.stderr]).toEqual([2, '', expect.stringContaining('no learnloop store there (the database has no learnloop schema)')]);

    // The first part only (an import that was cut off), then the whole: it goes on where it stopped.
    const part = join(dir, 'part.jsonl');
    writeFileSync(part, `${lines.slice(0, 40).join('\n')}\n`);
    cli('import', 'events', part, '--db', pg, '--create');
    expect(JSON.parse(cli('import', 'events', file, '--db', pg, '--json'))).toEqual({ imported: lines.length - 40, alreadyThere: 40, head: lines.length });
    expect(cli('export', '--db', pg)).toBe(readFileSync(file, 'utf8'));

    // Another history in the destination: refused, and left as it was.
    const other = tmpDir();
    cli('templates', 'register', 'other@v1', '--db', other, '--create');
    const refused = spawnSync(process.execPath, [BIN, 'import', 'events', file, '--db', other], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('already holds a different history');
    expect(cli('export', '--db', other).trimEnd().split('\n')).toHaveLength(1);
  });
});
