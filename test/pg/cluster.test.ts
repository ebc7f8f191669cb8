import pg from 'pg';
import { expect, test } from 'vitest';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

describePg('the tests\' PostgreSQL', () => {
  test('answers, and gives each test file a database of its own', async () => {
    const url = await freshPgDatabase();
    const client = new pg.Client(url);
    await client.connect();
    try {
      const { rows } = await client.query('SELECT current_database() AS db');
      expect(rows[0].db).toBe(new URL(url).pathname.slice(1));
    } finally {
      await client.end();
    }
  });
});
