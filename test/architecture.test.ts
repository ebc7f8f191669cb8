import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../src/paths.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const src = (folder: string) => files(join(PACKAGE_ROOT, 'src', folder));
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

// The dependency rules of docs/design.md, checked on the import lines (TypeScript 7 has no compiler
// API for typescript-eslint, so a plain reading of the sources carries them).
describe('architecture', () => {
  test.each(src('bandit').map((f) => [relative(PACKAGE_ROOT, f), f]))('%s is pure: no I/O, clock, randomness or adapters', (_, file) => {
    // Comments may name what the code must not do.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const spec of importsOf(file)) {
      expect(spec.startsWith('./') || spec === 'jstat', `${spec} imported by the pure core`).toBe(true);
    }
    expect(text).not.toMatch(/Math\.random|Date\.now|new Date\(|process\.|performance\.now/);
  });

  test.each(src('store').map((f) => [relative(PACKAGE_ROOT, f), f]))('%s depends only on the core and its database clients', (_, file) => {
    for (const spec of importsOf(file)) {
      const inside = spec.startsWith('.') && /^src\/(store|bandit)\//.test(relative(PACKAGE_ROOT, join(dirname(file), spec)));
      expect(inside || /^(lmdb|pg|node:.*)$/.test(spec), `${spec} imported by the store`).toBe(true);
    }
  });

  test('generated proto code is imported only by the server adapter, the client and the CLI', () => {
    const offenders = ['bandit', 'store', 'service']
      .flatMap(src)
      .filter((f) => importsOf(f).some((s) => s.includes('/gen/')))
      .map((f) => relative(PACKAGE_ROOT, f));
    expect(offenders).toEqual([]);
  });

  test('only src/server/errors.ts knows gRPC status codes', () => {
    const offenders = [...src('bandit'), ...src('store'), ...src('service'), ...src('server')]
      .filter((f) => !f.endsWith(join('server', 'errors.ts')))
      .filter((f) => /status\.(INVALID_ARGUMENT|NOT_FOUND|ALREADY_EXISTS|FAILED_PRECONDITION|INTERNAL|UNAUTHENTICATED|CANCELLED|UNAVAILABLE|RESOURCE_EXHAUSTED)\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(PACKAGE_ROOT, f));
    expect(offenders).toEqual([]);
  });

  test('only the store adapters touch lmdb, and only the composition root picks an adapter', () => {
    const all = files(join(PACKAGE_ROOT, 'src'));
    const lmdbUsers = all.filter((f) => importsOf(f).includes('lmdb')).map((f) => relative(PACKAGE_ROOT, f));
    expect(lmdbUsers).toEqual([join('src', 'store', 'lmdb-store.ts')]);
    const pickers = all
      .filter((f) => !f.includes(`${join('src', 'store')}`) && f !== join(PACKAGE_ROOT, 'src', 'compose.ts'))
      .filter((f) => /\b(LmdbStore|MemoryStore)\b/.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
      .map((f) => relative(PACKAGE_ROOT, f));
    expect(pickers).toEqual([]);
  });

  test('the service reaches the store only through the port', () => {
    for (const file of src('service')) {
      for (const spec of importsOf(file).filter((s) => s.includes('/store/'))) expect(spec, relative(PACKAGE_ROOT, file)).toBe('../store/port.js');
    }
  });
});
