/**
 * Counter arithmetic for `incr`: values are decimal strings of signed 64-bit
 * integers, computed with BigInt (exact beyond 2^53) and range-checked.
 */
const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const DECIMAL = /^-?[0-9]{1,19}$/;

/** A decimal int64 (optional '-', 1–19 digits, leading zeros allowed), or undefined. */
export function parseInt64(s: string): bigint | undefined {
  if (!DECIMAL.test(s)) return undefined;
  const n = BigInt(s);
  return n < MIN || n > MAX ? undefined : n;
}

/** a + b, or undefined when the sum leaves int64. */
export function addInt64(a: bigint, b: number): bigint | undefined {
  const r = a + BigInt(b);
  return r < MIN || r > MAX ? undefined : r;
}
