/**
 * A fixed-size set of small integers (the ops linearized so far). The search keeps
 * one mutable working set and stores frozen copies in its cache, so only set/clear,
 * copy and equality are needed.
 */
export class Bitset {
  private constructor(private readonly words: Uint32Array) {}

  static empty(size: number): Bitset {
    return new Bitset(new Uint32Array(Math.ceil(size / 32)));
  }

  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }

  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  clone(): Bitset {
    return new Bitset(this.words.slice());
  }

  equals(other: Bitset): boolean {
    const a = this.words;
    const b = other.words;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
}
