/**
 * Protocol-buffers wire format, by hand, for the hot messages of
 * proto/paxlog.proto (Paxos batches and forwarded commands). protobufjs's
 * generic path (`fromObject` then `encode`, `decode` then `toObject`) built
 * two object trees per message and showed at the top of the leader's
 * profile; these write and read the same bytes in one pass. The .proto file
 * stays the contract: test/unit/grpc-wire.test.ts checks both directions
 * against protobufjs.
 */

/** Wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const TWO_POW_28 = 2 ** 28;

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  for (let rest = Math.floor(n / TWO_POW_28); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/**
 * Writes a message back to front: a sub-message's length is known once its
 * fields are written, so it is prepended then, and nothing is sized twice or
 * copied afterwards. Fields are therefore written in reverse: last field
 * (and last element of a repeated field) first.
 */
export class ProtoWriter {
  private buf: Buffer;
  private pos: number;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(16, capacity));
    this.pos = this.buf.length;
  }

  /** Bytes written so far; read it before a sub-message's fields, pass it to `endMessage`. */
  get length(): number {
    return this.buf.length - this.pos;
  }

  /** The encoded message (a view of the writer's buffer). */
  finish(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** A varint field; proto3 leaves out zeros. */
  uint(field: number, n: number): void {
    if (n === 0) return;
    this.varint(n);
    this.varint(field << 3);
  }

  /** A varint field written even when zero (a oneof member). */
  uintPresent(field: number, n: number): void {
    this.varint(n);
    this.varint(field << 3);
  }

  bool(field: number, b: boolean): void {
    if (!b) return;
    this.reserve(1);
    this.buf[--this.pos] = 1;
    this.varint(field << 3);
  }

  bytes(field: number, bytes: Uint8Array): void {
    const n = bytes.byteLength;
    this.reserve(n);
    this.pos -= n;
    this.buf.set(bytes, this.pos);
    this.varint(n);
    this.varint((field << 3) | LENGTH_DELIMITED);
  }

  string(field: number, s: string): void {
    const n = Buffer.byteLength(s);
    this.reserve(n);
    this.pos -= n;
    this.buf.write(s, this.pos, n, "utf8");
    this.varint(n);
    this.varint((field << 3) | LENGTH_DELIMITED);
  }

  /** Closes a sub-message whose fields were written since `mark` (an earlier `length`). */
  endMessage(field: number, mark: number): void {
    this.varint(this.length - mark);
    this.varint((field << 3) | LENGTH_DELIMITED);
  }

  private varint(n: number): void {
    if (!(n >= 0 && Number.isSafeInteger(n))) throw new RangeError(`not a uint64: ${n}`);
    const size = varintSize(n);
    this.reserve(size);
    this.pos -= size;
    const buf = this.buf;
    let at = this.pos;
    if (n <= 0x7fffffff) {
      while (n > 0x7f) {
        buf[at++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
    } else {
      while (n > 0x7f) {
        buf[at++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
    }
    buf[at] = n;
  }

  private reserve(n: number): void {
    if (this.pos >= n) return;
    const used = this.length;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, used + n + 64));
    this.buf.copy(bigger, bigger.length - used, this.pos);
    this.buf = bigger;
    this.pos = bigger.length - used;
  }
}

/** Reads the wire format; throws on truncated or malformed input. */
export class ProtoReader {
  pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get end(): number {
    return this.buf.byteLength;
  }

  /** A field's tag: field number << 3 | wire type. */
  tag(): number {
    return this.varint();
  }

  varint(): number {
    const buf = this.buf;
    let at = this.pos;
    if (at >= buf.byteLength) throw new RangeError("truncated varint");
    let b = buf[at++]!;
    let result = b & 0x7f;
    let shift = 7;
    while (b >= 0x80) {
      if (at >= buf.byteLength || shift > 63) throw new RangeError("truncated or overlong varint");
      b = buf[at++]!;
      // Bit operations stay exact below 2^31; above, multiply (uint64 up to 2^53).
      result = shift < 28 ? result | ((b & 0x7f) << shift) : result + (b & 0x7f) * 2 ** shift;
      shift += 7;
    }
    this.pos = at;
    return result;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  /** A length-delimited field's bytes: a view of the input, not a copy. */
  bytes(): Uint8Array {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.buf.byteLength) throw new RangeError("truncated bytes");
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }

  string(): string {
    const b = this.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
  }

  /** Enters a sub-message: returns where it ends (read fields while `pos < end`). */
  enter(): number {
    const n = this.varint();
    const end = this.pos + n;
    if (end > this.buf.byteLength) throw new RangeError("truncated sub-message");
    return end;
  }

  /** Skips a field this reader does not know (a newer peer may send more). */
  skip(tag: number): void {
    switch (tag & 7) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH_DELIMITED:
        this.advance(this.varint());
        return;
      case FIXED32:
        this.advance(4);
        return;
      default:
        throw new RangeError(`unsupported wire type ${tag & 7}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.byteLength) throw new RangeError("truncated field");
    this.pos += n;
  }
}
