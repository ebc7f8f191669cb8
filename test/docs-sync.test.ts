import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../src/bandit/index.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { STATUS_BY_CODE } from '../src/server/errors.js';

const catalog = readFileSync(join(PACKAGE_ROOT, 'docs', 'errors.md'), 'utf8');

describe('docs/errors.md', () => {
  test('documents exactly the codes the core defines', () => {
    const documented = [...catalog.matchAll(/<a id="(LL_[A-Z_]+)">/g)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.values(ERROR_CODES)));
  });

  test.each(Object.values(ERROR_CODES))('%s is documented with the status the server maps it to', (code) => {
    const row = catalog.split('\n').find((l) => l.includes(`<a id="${code}">`))!;
    const statusName = Object.entries(status).find(([, v]) => v === STATUS_BY_CODE[code])![0];
    expect(row).toContain(`\`${statusName}\``);
  });
});
