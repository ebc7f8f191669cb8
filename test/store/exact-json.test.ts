import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { parseExact, stringifyExact } from '../../src/store/exact-json.js';

// Records as the stores hold them: nested objects and arrays of strings, booleans and any double.
const record = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.double(), fc.string(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.string().filter((k) => k !== '$n' && k !== '__proto__'), tie('value'), { maxKeys: 4, noNullPrototype: true }),
})).value;

test.prop([record])('every value reads back exactly (Object.is on every number, -0, NaN and infinities included)', (value) => {
  // toStrictEqual tells -0 from 0 and NaN from null.
  expect(parseExact(stringifyExact(value))).toStrictEqual(value);
});

test('plain numbers are plain JSON, so other tools read the files', () => {
  expect(stringifyExact({ a: 0.1 + 0.2, b: -0, c: Infinity, d: [NaN] })).toBe('{"a":0.30000000000000004,"b":{"$n":"-0"},"c":{"$n":"Infinity"},"d":[{"$n":"NaN"}]}');
});

test('a tag spelled with escapes is read as one, and "$n" elsewhere as it is (texts without either skip the reviver)', () => {
  expect(Object.is(parseExact<{ a: number }>('{"a":{"\\u0024n":"-0"}}').a, -0)).toBe(true);
  expect(parseExact('{"a$n":"$n","b":["\\u00e9",{"$n":"NaN"}]}')).toStrictEqual({ a$n: '$n', b: ['é', NaN] });
  expect(parseExact('{"a":[1,{"n":"-0"}],"b":"x"}')).toStrictEqual({ a: [1, { n: '-0' }], b: 'x' });
});
