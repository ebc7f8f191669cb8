import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

// The packed npm package holds dist/src only: anything src/ imports from bench/ or test/ is missing there.
test('src/ never imports bench/ or test/', () => {
  const offenders: string[] = [];
  for (const file of files(join(PACKAGE_ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = relative(PACKAGE_ROOT, resolve(dirname(file), m[1]!));
      if (/^(bench|test)\//.test(target)) offenders.push(`${relative(PACKAGE_ROOT, file)} -> ${m[1]}`);
    }
  }
  expect(offenders).toEqual([]);
});
