/**
 * `learnloop import runs`: reads dispatcher run records from files and folders and records each
 * through LearnLoop.observe, so import is idempotent by run id and validated like any Observe.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isStoreFault } from '../bandit/index.js';
import type { LearnLoop } from '../service/learnloop.js';
import { namesTemplate, normalizeRunRecord, validateFieldMap, type FieldMap } from './run-record.js';

/**
 * Every record read is counted once: records = applied + duplicates + skipped.length + pairedResults
 * (a paired result is merged into its run record, which is then counted as applied, duplicate or skipped).
 */
export interface ImportRunsSummary {
  /** Records read (one per JSON file, array element or JSONL line). */
  records: number;
  applied: number;
  duplicates: number;
  /** Runs whose task class came from the classifier because the record named none. */
  classified: number;
  /** Result records (athena's state/results/<bead>.json) merged into their run records, each counted once. */
  pairedResults: number;
  skipped: Array<{ source: string; reason: string }>;
  /** Of the skipped, runs still running (the rest but statusFiles are records in error: the command exits 2). */
  stillRunning: number;
  /** Of the skipped, the runner's status files (athena's state/watch/<bead>.status.json): no run records, no error. */
  statusFiles: number;
}

/** Every file under the given paths, folders walked in name order (.json and .jsonl only). */
export function runFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean) => {
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name), false);
    } else if (explicit || /\.jsonl?$/.test(p)) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return out;
}

export type RunFileItem = { source: string; value: unknown } | { source: string; error: string };

/** The records in one file: a JSON object, a JSON array of objects, or JSON Lines. */
export function parseRunFile(file: string, content: string): RunFileItem[] {
  const trimmed = content.trim();
  if (trimmed === '') return [];
  if (!file.endsWith('.jsonl')) {
    try {
      const v: unknown = JSON.parse(trimmed);
      return Array.isArray(v) ? v.map((value, i) => ({ source: `${file}[${i}]`, value })) : [{ source: file, value: v }];
    } catch (err) {
      if (!trimmed.includes('\n')) return [{ source: file, error: `not valid JSON: ${(err as Error).message}` }];
      // Not one JSON document: try it as JSON Lines.
    }
  }
  return content.split('\n').flatMap((line, i): RunFileItem[] => {
    if (line.trim() === '') return [];
    const source = `${file}:${i + 1}`;
    try {
      return [{ source, value: JSON.parse(line) as unknown }];
    } catch (err) {
      return [{ source, error: `not valid JSON: ${(err as Error).message}` }];
    }
  });
}

/** Reads and checks a field-map file. @throws Error naming every problem. */
export function loadFieldMap(file: string): FieldMap {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--field-map ${file}: ${(err as Error).message}`);
  }
  const problems = validateFieldMap(raw);
  if (problems.length > 0) throw new Error(`--field-map ${file}: ${problems.join('; ')}`);
  return raw as FieldMap;
}

/**
 * athena's result record (state/results/<bead>.json, schema result.schema.json): how a run ended,
 * written by the runner. It names no template, so it only completes its run record.
 */
export function isResultRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return 'will_retry' in v && 'reason' in v && !('template_name' in v) && !('prompt' in v);
}

/**
 * athena's runner status file (state/watch/<bead>.status.json: bead, agent, finished_at, exit_code),
 * which sits beside the run records in state/: it names no template nor status, so it records nothing.
 */
function isRunnerStatusFile(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.includes('bead') && keys.includes('exit_code') && keys.every((k) => RUNNER_STATUS_FIELDS.has(k));
}
const RUNNER_STATUS_FIELDS = new Set(['bead', 'agent', 'finished_at', 'exit_code']);

/** The fields a result record knows better than its run record (the run record may predate the end). */
const RESULT_FIELDS = ['status', 'finished_at', 'duration_seconds', 'exit_code', 'verification', 'output_summary'] as const;

const runKey = (r: Record<string, unknown>) => `${String(r.bead)}#${String(r.attempt ?? 1)}`;

/** The run record with its result's non-null fields laid over it. */
function withResult(run: Record<string, unknown>, result: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...run };
  for (const f of RESULT_FIELDS) if (result[f] !== undefined && result[f] !== null) merged[f] = result[f];
  return merged;
}

/**
 * Imports every record under `paths`, one Observe per run; a result record is paired with the run
 * record (one that names a template) of the same bead, attempt and start time. Up to 256 observations are in flight at once
 * so they share commits; lmdb-js runs transactions in call order, so the log keeps file order.
 */
export async function importRuns(ll: LearnLoop, paths: readonly string[], map: FieldMap = {}): Promise<ImportRunsSummary> {
  const summary: ImportRunsSummary = { records: 0, applied: 0, duplicates: 0, classified: 0, pairedResults: 0, skipped: [], stillRunning: 0, statusFiles: 0 };
  const skipped: Array<{ at: number; source: string; reason: string }> = [];
  const items = runFiles(paths).flatMap((file) => parseRunFile(file, readFileSync(file, 'utf8')));
  summary.records = items.length;
  type Result = { at: number; source: string; record: Record<string, unknown>; paired: boolean };
  // Several results may share a bead and attempt (a re-dispatch): each keeps its own entry, so each is counted.
  const resultsByRun = new Map<string, Result[]>();
  items.forEach((item, at) => {
    if (!('value' in item) || !isResultRecord(item.value)) return;
    const key = runKey(item.value);
    resultsByRun.set(key, [...(resultsByRun.get(key) ?? []), { at, source: item.source, record: item.value, paired: false }]);
  });
  const inFlight: Array<Promise<void>> = [];
  // The store failing (a full disk, a database gone) is no fault of a record: the import stops and fails with it.
  let storeFault: unknown;
  for (const [at, item] of items.entries()) {
    if (storeFault !== undefined) break;
    if ('error' in item) {
      skipped.push({ at, source: item.source, reason: item.error });
      continue;
    }
    if (isResultRecord(item.value)) continue;
    if (isRunnerStatusFile(item.value)) {
      summary.statusFiles++;
      skipped.push({ at, source: item.source, reason: `${String(item.value.bead)}: the runner's status file, not a run record` });
      continue;
    }
    let value = item.value;
    const rec = value as Record<string, unknown>;
    const result = namesTemplate(value, map)
      ? resultsByRun.get(runKey(rec))?.find((r) => rec.started_at === undefined || rec.started_at === r.record.started_at)
      : undefined;
    if (result !== undefined) {
      value = withResult(rec, result.record);
      result.paired = true;
    }
    const n = normalizeRunRecord(value, map);
    if (n.kind === 'skip') {
      if (n.running === true) summary.stillRunning++;
      skipped.push({ at, source: item.source, reason: n.reason });
      continue;
    }
    inFlight.push(
      ll.observe(n.params).then(
        (r) => {
          if (!r.applied) summary.duplicates++;
          else {
            summary.applied++;
            if (n.taskClassSource === 'classifier') summary.classified++;
          }
        },
        (err: unknown) => {
          if (isStoreFault(err)) storeFault ??= err;
          else skipped.push({ at, source: item.source, reason: `${n.params.runId}: ${(err as Error).message}` });
        },
      ),
    );
    if (inFlight.length >= 256) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  if (storeFault !== undefined) throw storeFault;
  for (const r of [...resultsByRun.values()].flat()) {
    if (r.paired) summary.pairedResults++;
    else {
      const attempt = String(r.record.attempt ?? 1);
      skipped.push({ at: r.at, source: r.source, reason: `${String(r.record.bead)}: result record with no run record (attempt ${attempt}), so no template to credit` });
    }
  }
  summary.skipped = skipped.sort((a, b) => a.at - b.at).map(({ source, reason }) => ({ source, reason }));
  return summary;
}
