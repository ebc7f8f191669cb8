import { cyrb128 } from './hash.js';

/** A source of uniform numbers in [0, 1). The core never touches Math.random. */
export interface Rng {
  next(): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, PractRand-clean), seeded from a
 * 128-bit hash of `seed`.
 * @param seed any string; equal seeds give equal streams.
 */
export function createRng(seed: string): Rng {
  let [a, b, c, d] = cyrb128(seed);
  const rng = {
    next(): number {
      a |= 0;
      b |= 0;
      c |= 0;
      d |= 0;
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    },
  };
  // Discard the first outputs: sfc32's state needs a few rounds to mix a hashed seed.
  for (let i = 0; i < 12; i++) rng.next();
  return rng;
}

/** Named sub-streams of one decision: changing how many draws one uses cannot move another. */
export type Stream = 'pick' | 'summary' | 'bench' | 'bootstrap';

/**
 * The generator for one named stream of one decision.
 * @param decisionId the decision's id; the same id replays the same draws.
 */
export function rngForDecision(decisionId: string, stream: Stream): Rng {
  return createRng(`${stream}\u0000${decisionId}`);
}
