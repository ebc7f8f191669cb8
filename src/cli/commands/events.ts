/**
 * `learnloop export` and `learnloop import events FILE`: a whole history between stores (LMDB
 * folder, PostgreSQL). The file is the event log, one event per line in exact JSON
 * (src/store/exact-json.ts), with its seq and time; importing appends each event as it was and
 * lets the destination's projection derive the rest, so derived state and reports come out the
 * same as at the source (under the same policy).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { validateLoggedEvent, type EventBody, type LoggedEvent } from '../../bandit/index.js';
import { openStore } from '../../compose.js';
import { parseExact, stringifyExact } from '../../store/exact-json.js';
import type { Store } from '../../store/index.js';
import { configFrom, print, removingCreatedOnFailure, requireStore, UserError, withSettings } from '../context.js';

const EVENT_TYPES = new Set(['template', 'observation', 'decision', 'refinement_opened', 'refinement_decided']);
/** Commits in flight while importing (each event is its own commit, so it keeps its time). */
const IN_FLIGHT = 512;

export function registerExport(program: Command): void {
  withSettings(program.command('export').description('write the whole event log as JSONL to stdout (for `import events` into another store)'), ['db'])
    .action(async (opts) => {
      const config = configFrom(opts);
      await requireStore(config.dbPath, opts);
      const store = await openStore(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
      try {
        await exportEvents(store, (line) => new Promise<void>((resolve) => (process.stdout.write(line) ? resolve() : process.stdout.once('drain', resolve))));
      } finally {
        await store.close();
      }
    });
}

/** Writes every event, in order, one line each. @returns events written. */
export async function exportEvents(store: Pick<Store, 'events'>, write: (line: string) => Promise<void>): Promise<number> {
  let n = 0;
  let chunk = '';
  for await (const event of store.events()) {
    chunk += `${stringifyExact(event)}\n`;
    n++;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  if (chunk !== '') await write(chunk);
  return n;
}

/** `learnloop import events FILE` (called by the import command). */
export async function importEventsCommand(files: readonly string[], opts: Record<string, unknown>): Promise<void> {
  if (files.length !== 1) throw new UserError('import events: name one JSONL file written by `learnloop export`');
  const config = configFrom(opts);
  await requireStore(config.dbPath, opts);
  const events = await readEvents(files[0]!);
  const summary = await removingCreatedOnFailure(config.dbPath, async () => {
    const store = await openStore(config.dbPath, { policy: config.policy });
    try {
      return await importEvents(store, events);
    } finally {
      await store.close();
    }
  });
  print(opts.json === true, summary, () => `${summary.imported} events imported (${summary.alreadyThere} already there); log head ${summary.head}`);
}

/**
 * Reads and checks a whole export before anything is written: every line an event, seqs 1, 2, 3...
 * @throws UserError naming the first bad line.
 */
export async function readEvents(file: string): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  let line = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      let event: LoggedEvent;
      try {
        event = parseExact<LoggedEvent>(text);
      } catch (e) {
        throw new UserError(`${file}:${line}: not JSON (${(e as Error).message})`);
      }
      const e = event as Partial<LoggedEvent> | null;
      if (typeof e !== 'object' || e === null || !EVENT_TYPES.has(String(e.type)) || typeof e.atMs !== 'number') {
        throw new UserError(`${file}:${line}: not a learnloop event (written by \`learnloop export\`?)`);
      }
      // Checked as a live write would have been: the log is append-only, and a bad field would stay in it.
      const problems = validateLoggedEvent(e as Record<string, unknown>);
      if (problems.length > 0) throw new UserError(`${file}:${line}: not an event learnloop could have logged: ${problems.map((p) => `${p.field} ${p.description}`).join('; ')}`);
      if (e.seq !== out.length + 1) throw new UserError(`${file}:${line}: seq ${String(e.seq)} where ${out.length + 1} was expected (the file must hold a whole log, in order)`);
      out.push(event);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  return out;
}

/**
 * Appends `events` (a whole log) to `store`. The store must be empty or hold a prefix of the
 * same log (an import that was cut off): events already there are checked and skipped.
 * @throws UserError when the store holds a different history.
 */
export async function importEvents(store: Store, events: readonly LoggedEvent[]): Promise<{ imported: number; alreadyThere: number; head: number }> {
  const head = await store.head();
  let k = 0;
  for await (const existing of store.events()) {
    if (k >= events.length || stringifyExact(existing) !== stringifyExact(events[k])) {
      throw new UserError(`the destination already holds a different history (event ${existing.seq} differs): import events needs an empty store`);
    }
    if (++k === head) break;
  }
  for (let i = head; i < events.length; i += IN_FLIGHT) {
    const window = events.slice(i, i + IN_FLIGHT);
    // Each event is its own commit (it keeps its own time); commits in flight together share a transaction.
    const done = await Promise.all(
      window.map((event) => {
        const { seq: _seq, atMs, ...body } = event;
        return store.commit(atMs, async () => ({ events: [body as EventBody], result: undefined }));
      }),
    );
    done.forEach(({ events: [logged] }, j) => {
      if (logged?.seq !== window[j]!.seq) throw new UserError(`event ${window[j]!.seq} was logged as ${String(logged?.seq)}: another writer is using the destination; import into a store nothing else writes to`);
    });
  }
  return { imported: events.length - head, alreadyThere: head, head: await store.head() };
}
