import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('--max-id-length against the store', () => {
  test('a PostgreSQL store refuses a limit its index rows cannot hold, naming the flag', () => {
    for (const db of ['postgres://u@h/d', 'POSTGRESQL://u@h/d']) {
      expect(loadConfig({}, { db, 'max-id-length': '297' }).limits.maxIdLength).toBe(297);
      expect(() => loadConfig({}, { db, 'max-id-length': '298' })).toThrow(ConfigError);
      expect(() => loadConfig({}, { db, 'max-id-length': '298' })).toThrow(/--max-id-length: at most 297 with a PostgreSQL store.*got 298/);
    }
  });

  test('an LMDB folder takes any limit up to 65536 (its keys hash long parts)', () => {
    expect(loadConfig({}, { db: './data', 'max-id-length': '4096' }).limits.maxIdLength).toBe(4096);
  });
});
