import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { Lru } from '../../src/service/lru.js';

describe('Lru', () => {
  test.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 10 })), { maxLength: 200 })])(
    'holds at most its capacity in weight, keeps the newest entry, and evicts least recently used first',
    (ops) => {
      const lru = new Lru<number>(25, (w) => w);
      const model: Array<[string, number]> = []; // oldest first
      for (const [k, w] of ops) {
        const key = String(k);
        if (k % 3 === 0 && lru.get(key) !== undefined) {
          // A read makes the entry the most recently used.
          const i = model.findIndex(([m]) => m === key);
          model.push(model.splice(i, 1)[0]!);
          continue;
        }
        lru.set(key, w);
        const i = model.findIndex(([m]) => m === key);
        if (i >= 0) model.splice(i, 1);
        model.push([key, w]);
        while (model.reduce((s, [, x]) => s + x, 0) > 25 && model.length > 1) model.shift();
      }
      for (const [key, w] of model) expect(lru.get(key)).toBe(w);
      const held = [...Array(21).keys()].filter((k) => lru.get(String(k)) !== undefined);
      expect(held.sort()).toEqual(model.map(([k]) => Number(k)).sort());
    },
  );
});
