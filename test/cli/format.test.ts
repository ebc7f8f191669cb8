import { describe, expect, test } from 'vitest';
import { table } from '../../src/cli/format.js';
import { NO_DATA } from '../../src/reports/index.js';

describe('plain-text tables', () => {
  test('a column of numbers stays right-aligned where some rows have nothing to show', () => {
    const out = table(['template', 'pass rate', 'runs'], [['bug-fix@v1', '66.7%', 9], ['docs@v2', NO_DATA, 0], ['bug-fix@v2', '5.0%', 120]]).split('\n');
    expect(out).toEqual([
      'template    pass rate  runs',
      '----------  ---------  ----',
      'bug-fix@v1      66.7%     9',
      `docs@v2             ${NO_DATA}     0`,
      'bug-fix@v2       5.0%   120',
    ]);
  });

  test('a column of nothing but the no-data mark, or of words, stays left-aligned', () => {
    expect(table(['a', 'b'], [[NO_DATA, 'x'], [NO_DATA, 'yy']]).split('\n').slice(2)).toEqual([`${NO_DATA}  x`, `${NO_DATA}  yy`]);
  });
});
