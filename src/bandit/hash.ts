/**
 * cyrb128: a fast, well-mixed 128-bit string hash (public domain, bryc). Used to seed generators
 * and to fingerprint configurations; not cryptographic.
 * @returns four unsigned 32-bit words.
 */
export function cyrb128(str: string): [number, number, number, number] {
  const codes = new Uint16Array(str.length);
  for (let i = 0; i < str.length; i++) codes[i] = str.charCodeAt(i);
  return cyrb128Words(codes);
}

/** {@link cyrb128} over 32-bit words instead of a string's character codes. */
export function cyrb128Words(words: Uint16Array | Uint32Array): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!;
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** Hex digest of {@link cyrb128}, 32 characters. */
export function hashHex(str: string): string {
  return hexOf(cyrb128(str));
}

/** 32 hex characters of a 128-bit digest. */
export function hexOf(digest: readonly number[]): string {
  return digest
    .map((w) => w.toString(16).padStart(8, '0'))
    .join('');
}
