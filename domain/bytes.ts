import { isUtf8 } from "node:buffer";
import { utf8EncodedLength, utf8Read, utf8Write } from "./utf8";

/**
 * Byte-level building blocks for the codecs: unsigned varints (up to
 * 2^53 - 1, the safe-integer range) and length-prefixed UTF-8 strings.
 */

/** Thrown only inside a decoder and caught at its boundary (never escapes). */
export class DecodeFault extends Error {}

/** The bytes ended early: for a stream decoder this means "wait for more". */
export class TruncatedFault extends DecodeFault {}

/**
 * Room for exactly `size` bytes, every one of which the caller writes.
 * Node's pooled allocation: a small buffer is a slice of a shared 8 KiB
 * slab, where `new Uint8Array(size)` gets a backing store of its own
 * (malloc, registration, sweeping: about ten times the time here, and it
 * was paid for every command and every forwarded result).
 */
export function allocBytes(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/** A copy of `bytes` that owns no more memory than it needs (see allocBytes). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = allocBytes(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

export function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export function writeUvarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Size of a length-prefixed string; `utf8Len` is its UTF-8 byte length. */
export function strSize(utf8Len: number): number {
  return uvarintSize(utf8Len) + utf8Len;
}

export function writeStr(out: Uint8Array, pos: number, s: string, utf8Len: number): number {
  pos = writeUvarint(out, pos, utf8Len);
  return utf8Write(s, out, pos);
}

/** A cursor over untrusted bytes: every read checks bounds and throws DecodeFault. */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) throw new TruncatedFault("truncated");
    return this.buf[this.pos++]!;
  }

  uvarint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      n += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (n > Number.MAX_SAFE_INTEGER) throw new DecodeFault("varint out of range");
        return n;
      }
      mul *= 128;
    }
    throw new DecodeFault("varint too long");
  }

  bytes(len: number): Uint8Array {
    if (len > this.remaining) throw new TruncatedFault("truncated");
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  str(): string {
    const len = this.uvarint();
    if (len > this.remaining) throw new TruncatedFault("truncated string");
    const s = utf8Read(this.buf, this.pos, this.pos + len);
    if (s === undefined) throw new DecodeFault("invalid UTF-8");
    this.pos += len;
    return s;
  }

  /** Checks a string field as `str()` does (bounds, strict UTF-8) without building the string. */
  skipStr(): void {
    const len = this.uvarint();
    if (len > this.remaining) throw new TruncatedFault("truncated string");
    const { buf, pos } = this;
    let ascii = true;
    for (let i = pos; i < pos + len; i++) {
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii && !isUtf8(buf.subarray(pos, pos + len))) throw new DecodeFault("invalid UTF-8");
    this.pos += len;
  }
}

/**
 * A growable writer for streams whose size is not known up front (results,
 * snapshots). Command encoding sizes exactly instead (see codec.ts).
 */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  uvarint(n: number): void {
    this.ensure(8);
    this.pos = writeUvarint(this.buf, this.pos, n);
  }

  str(s: string): void {
    // 3 bytes per UTF-16 unit is an upper bound (a surrogate pair is 2 units, 4 bytes)
    this.ensure(8 + s.length * 3);
    this.pos = writeStr(this.buf, this.pos, s, utf8EncodedLength(s));
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The bytes written so far (a view; copy if you keep writing). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}
