import { describe, expect, test } from 'vitest';
import { DataError, parseOutcomes, splitCsvLine } from '../../src/lift/data.js';

const csv = (rows: string[]) => rows.join('\n') + '\n';

describe('outcome CSV', () => {
  test('reads the columns in any order, ignores extra columns, keeps first-seen order', () => {
    const t = parseOutcomes(
      csv([
        'resolved,repo,extra,system,instance_id,difficulty,date',
        '1,org/a,x,sysB,t1,easy,20240101',
        '0,org/b,y,sysB,t2,hard,20240101',
        '0,org/a,z,sysA,t1,easy,20240102',
        '1,org/b,w,sysA,t2,hard,20240102',
      ]),
    );
    expect(t.systems).toEqual(['sysB', 'sysA']);
    expect(t.tasks).toEqual([
      { id: 't1', repo: 'org/a', difficulty: 'easy' },
      { id: 't2', repo: 'org/b', difficulty: 'hard' },
    ]);
    expect([...t.resolved]).toEqual([1, 0, 0, 1]);
  });

  test('handles quoted fields with commas and doubled quotes, CRLF and true/false', () => {
    expect(splitCsvLine('a,"b, c","say ""hi""",')).toEqual(['a', 'b, c', 'say "hi"', '']);
    const t = parseOutcomes(
      'system,date,instance_id,repo,difficulty,resolved\r\n' +
        's1,1,t1,r,"15 min, maybe",true\r\ns2,1,t1,r,"15 min, maybe",false\r\n',
    );
    expect(t.tasks[0]!.difficulty).toBe('15 min, maybe');
    expect([...t.resolved]).toEqual([1, 0]);
  });

  test('rejects files the replay cannot use, naming the problem', () => {
    const header = 'system,date,instance_id,repo,difficulty,resolved';
    expect(() => parseOutcomes(csv(['system,instance_id,resolved', 's,t,1']))).toThrow(/missing column\(s\) date, repo, difficulty/);
    expect(() => parseOutcomes(csv([header, 's1,1,t1,r,d,2', 's2,1,t1,r,d,0']))).toThrow(/line 2: resolved must be 0 or 1/);
    expect(() => parseOutcomes(csv([header, 's1,1,t1,r,d,1', 's1,1,t1,r,d,0', 's2,1,t1,r,d,0']))).toThrow(/duplicate row for s1 on t1/);
    expect(() => parseOutcomes(csv([header, 's1,1,t1,r,d,1', 's1,1,t2,r,d,1', 's2,1,t1,r,d,0']))).toThrow(/s2 has outcomes for 1 of 2 tasks/);
    expect(() => parseOutcomes(csv([header, 's1,1,t1,r,d,1']))).toThrow(/at least 2 systems/);
    expect(() => parseOutcomes(csv([header, 's1,1,t1,r,d,1', 's2,1,t1,other,d,0']))).toThrow(DataError);
  });
});
