/**
 * Full-information outcome tables: every system's result on every task, read from CSV with the
 * columns `system,date,instance_id,repo,difficulty,resolved` (any order, extra columns ignored).
 */

export const REQUIRED_COLUMNS = ['system', 'date', 'instance_id', 'repo', 'difficulty', 'resolved'] as const;

export interface Task {
  readonly id: string;
  readonly repo: string;
  readonly difficulty: string;
}

export interface OutcomeTable {
  /** System names in first-seen order. */
  readonly systems: readonly string[];
  /** Each system's `date` column (its first row's), for subsets by era. */
  readonly systemDates?: readonly string[];
  readonly tasks: readonly Task[];
  /** resolved[s * tasks.length + t] is 1 when system s resolved task t, else 0. */
  readonly resolved: Uint8Array;
}

export class DataError extends Error {}

/** Splits one CSV record (RFC 4180 quoting; no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const TRUE_VALUES = new Set(['1', 'true', 'yes']);
const FALSE_VALUES = new Set(['0', 'false', 'no']);

/**
 * Parses an outcome CSV. Every (system, task) pair must appear exactly once: the replay needs the
 * counterfactual outcome of every candidate on every task.
 * @throws DataError naming the line and the problem
 */
export function parseOutcomes(text: string): OutcomeTable {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().replace(/^\uFEFF/, ''));
  const col = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof REQUIRED_COLUMNS)[number], number>;
  const missing = REQUIRED_COLUMNS.filter((c) => col[c] < 0);
  if (missing.length > 0) throw new DataError(`missing column(s) ${missing.join(', ')}; the header is: ${header.join(',')}`);

  const systemIndex = new Map<string, number>();
  const systemDates: string[] = [];
  const taskIndex = new Map<string, number>();
  const tasks: Task[] = [];
  const cells = new Map<number, Map<number, number>>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const f = splitCsvLine(line);
    const system = (f[col.system] ?? '').trim();
    const id = (f[col.instance_id] ?? '').trim();
    const repo = (f[col.repo] ?? '').trim();
    const difficulty = (f[col.difficulty] ?? '').trim();
    const raw = (f[col.resolved] ?? '').trim().toLowerCase();
    if (system === '' || id === '') throw new DataError(`line ${i + 1}: empty system or instance_id`);
    let value: number;
    if (TRUE_VALUES.has(raw)) value = 1;
    else if (FALSE_VALUES.has(raw)) value = 0;
    else throw new DataError(`line ${i + 1}: resolved must be 0 or 1; got ${JSON.stringify(raw)}`);
    let s = systemIndex.get(system);
    if (s === undefined) {
      s = systemIndex.size;
      systemIndex.set(system, s);
      systemDates.push((f[col.date] ?? '').trim());
      cells.set(s, new Map());
    }
    let t = taskIndex.get(id);
    if (t === undefined) {
      t = tasks.length;
      taskIndex.set(id, t);
      tasks.push({ id, repo, difficulty });
    } else if (tasks[t]!.repo !== repo || tasks[t]!.difficulty !== difficulty) {
      throw new DataError(`line ${i + 1}: ${id} has repo/difficulty ${repo}/${difficulty}, earlier ${tasks[t]!.repo}/${tasks[t]!.difficulty}`);
    }
    const row = cells.get(s)!;
    if (row.has(t)) throw new DataError(`line ${i + 1}: duplicate row for ${system} on ${id}`);
    row.set(t, value);
  }
  const systems = [...systemIndex.keys()];
  if (systems.length < 2) throw new DataError(`need at least 2 systems; found ${systems.length}`);
  if (tasks.length === 0) throw new DataError('no rows');
  const resolved = new Uint8Array(systems.length * tasks.length);
  for (const [s, row] of cells) {
    if (row.size !== tasks.length) {
      throw new DataError(`${systems[s]} has outcomes for ${row.size} of ${tasks.length} tasks; every system needs every task`);
    }
    for (const [t, v] of row) resolved[s * tasks.length + t] = v;
  }
  return { systems, systemDates, tasks, resolved };
}
