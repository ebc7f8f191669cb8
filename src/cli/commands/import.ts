/** `learnloop import FILE.jsonl` (ObserveRequests) and `learnloop import runs PATH...` (run records). */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { JsonValue } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { isStoreFault } from '../../bandit/index.js';
import { ObserveRequest } from '../../gen/learnloop/v1/learnloop.js';
import { observeFromProto } from '../../server/mapping.js';
import type { LearnLoop } from '../../service/learnloop.js';
import { helpers, print, UserError, withApp, withCreate, withSettings } from '../context.js';
import { protoJsonToBinary } from '../proto-json.js';
import { importRunsCommand } from './analytics.js';
import { importEventsCommand } from './events.js';

export function registerImport(program: Command): void {
  withCreate(
    withSettings(
      program
        .command('import <file...>')
        .usage('[options] FILE.jsonl | runs PATH... | events FILE')
        .description(
          'import observations: one ObserveRequest per line (proto3 JSON); `import runs PATH...` reads dispatcher run records; ' +
            '`import events FILE` appends a whole log written by `learnloop export` (to an empty store)',
        ),
      ['db'],
    ),
  )
    .option('--ignore-unknown-fields', 'FILE.jsonl: skip fields ObserveRequest does not have instead of rejecting the line')
    .option('--field-map <file>', 'import runs: JSON file mapping run-record fields of another dispatcher')
    .option('--no-scan', 'import runs: do not scan for refinement items afterwards')
    .option('--rules <file>', 'import runs: remediation rules file for the items that scan opens (default: rules/remediations.json)')
    .option('--json', 'print JSON')
    .action(async (files: string[], opts) => {
      if (files[0] === 'runs') return importRunsCommand(files.slice(1), opts, helpers);
      if (files[0] === 'events') return importEventsCommand(files.slice(1), opts);
      if (files.length !== 1) throw new UserError('import: name one JSONL file of ObserveRequests, or `import runs PATH...`');
      const file = files[0]!;
      if (!existsSync(file)) throw new UserError(`import: no such file: ${file}`);
      const summary = await withApp(opts, (app) => importObservations(app.learnloop, file, { ignoreUnknownFields: opts.ignoreUnknownFields === true }));
      print(opts.json === true, summary, () =>
        [
          `${summary.applied} applied, ${summary.duplicates} duplicates, ${summary.rejected.length} rejected (of ${summary.lines} lines)`,
          ...summary.rejected.slice(0, 20).map((r) => `  line ${r.line}: ${r.reason}`),
          ...(summary.rejected.length > 20 ? [`  ... and ${summary.rejected.length - 20} more (use --json)`] : []),
        ].join('\n'),
      );
      // Rejected lines are input errors, with or without --json.
      if (summary.rejected.length > 0) process.exitCode = 2;
    });
}

export interface ImportSummary {
  lines: number;
  applied: number;
  duplicates: number;
  rejected: Array<{ line: number; reason: string }>;
}

/** Imports a JSONL file of ObserveRequests in order; observations in flight at once share a commit. */
export async function importObservations(ll: LearnLoop, file: string, options = { ignoreUnknownFields: false }): Promise<ImportSummary> {
  const summary: ImportSummary = { lines: 0, applied: 0, duplicates: 0, rejected: [] };
  const batch: Array<Promise<void>> = [];
  // The store failing (a full disk) is no fault of a line: the import stops and fails with it.
  let storeFault: unknown;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (storeFault !== undefined) break;
    const line = ++summary.lines;
    if (text.trim() === '') continue;
    let json: JsonValue;
    try {
      json = JSON.parse(text) as JsonValue;
    } catch (err) {
      summary.rejected.push({ line, reason: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    let params;
    try {
      params = observeFromProto(ObserveRequest.decode(protoJsonToBinary('learnloop.v1.ObserveRequest', json, options)));
    } catch (err) {
      summary.rejected.push({ line, reason: (err as Error).message });
      continue;
    }
    batch.push(
      ll.observe(params).then(
        (r) => {
          if (r.applied) summary.applied++;
          else summary.duplicates++;
        },
        (err: unknown) => {
          if (isStoreFault(err)) storeFault ??= err;
          else summary.rejected.push({ line, reason: (err as Error).message });
        },
      ),
    );
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  lines.close();
  if (storeFault !== undefined) throw storeFault;
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}
