import {
  allocBytes,
  ByteReader,
  DecodeFault,
  strSize,
  uvarintSize,
  writeStr,
  writeUvarint,
} from "./bytes";
import type { Command, KeyValue } from "./commands";
import { type Either, err, ok } from "./either";
import { utf8EncodedLength } from "./utf8";

/**
 * Binary command codec (what the log carries). A command is encoded once,
 * by the replica that accepted it, and the bytes travel and are batched
 * unchanged (`encodeBatch` only concatenates). Format v1:
 *
 *   u8 format (=1) · u8 tag · str clientId · uvarint requestId · body
 *   put    : str key · str value            delete : str key
 *   putMany: uvarint n · (str key · str value)^n · uvarint m · (str key)^m
 *   cas    : str key · u8 flags(1=expected present, 2=expectedVersion present)
 *            · [str expected] · [uvarint expectedVersion] · str value
 *   incr   : str key · u8 sign(0=+,1=-) · uvarint |by|
 *   append : str key · str suffix           read   : (nothing)
 *   str = uvarint byteLength · UTF-8 bytes; uvarint = LEB128 up to 2^53-1.
 *
 * Decoding is total: any byte string yields a command or a CodecError.
 * Decoding checks structure only; limits are checked by validation.
 */
export const COMMAND_FORMAT = 1;

export interface CodecError {
  readonly code: "CORRUPT";
  readonly message: string;
}

const TAG = { put: 1, delete: 2, putMany: 3, cas: 4, incr: 5, append: 6, read: 7 } as const;

/** Bytes of a string field, memoised per call so each string is measured once. */
function sizeOf(lens: number[], s: string): number {
  const n = utf8EncodedLength(s);
  lens.push(n);
  return strSize(n);
}

export function encodeCommand(c: Command): Uint8Array {
  const lens: number[] = [];
  let size = 2 + sizeOf(lens, c.clientId) + uvarintSize(c.requestId);
  switch (c.type) {
    case "put":
      size += sizeOf(lens, c.key) + sizeOf(lens, c.value);
      break;
    case "delete":
      size += sizeOf(lens, c.key);
      break;
    case "append":
      size += sizeOf(lens, c.key) + sizeOf(lens, c.suffix);
      break;
    case "incr":
      size += sizeOf(lens, c.key) + 1 + uvarintSize(Math.abs(c.by));
      break;
    case "cas":
      size += sizeOf(lens, c.key) + 1 + sizeOf(lens, c.value);
      if (c.expected !== null) size += sizeOf(lens, c.expected);
      if (c.expectedVersion !== undefined) size += uvarintSize(c.expectedVersion);
      break;
    case "putMany":
      size += uvarintSize(c.puts.length) + uvarintSize(c.deletes.length);
      for (const p of c.puts) size += sizeOf(lens, p.key) + sizeOf(lens, p.value);
      for (const k of c.deletes) size += sizeOf(lens, k);
      break;
    case "read":
      break;
  }
  const out = allocBytes(size);
  let li = 0;
  const s = (pos: number, str: string) => writeStr(out, pos, str, lens[li++]!);
  out[0] = COMMAND_FORMAT;
  out[1] = TAG[c.type];
  let pos = s(2, c.clientId);
  pos = writeUvarint(out, pos, c.requestId);
  switch (c.type) {
    case "put":
      pos = s(s(pos, c.key), c.value);
      break;
    case "delete":
      pos = s(pos, c.key);
      break;
    case "append":
      pos = s(s(pos, c.key), c.suffix);
      break;
    case "incr":
      pos = s(pos, c.key);
      out[pos++] = c.by < 0 ? 1 : 0;
      pos = writeUvarint(out, pos, Math.abs(c.by));
      break;
    case "cas": {
      // sizes were pushed as key, value, [expected]: write in that order of lens
      const keyLen = lens[li++]!;
      const valueLen = lens[li++]!;
      pos = writeStr(out, pos, c.key, keyLen);
      out[pos++] = (c.expected !== null ? 1 : 0) | (c.expectedVersion !== undefined ? 2 : 0);
      if (c.expected !== null) pos = s(pos, c.expected);
      if (c.expectedVersion !== undefined) pos = writeUvarint(out, pos, c.expectedVersion);
      pos = writeStr(out, pos, c.value, valueLen);
      break;
    }
    case "putMany":
      pos = writeUvarint(out, pos, c.puts.length);
      for (const p of c.puts) pos = s(s(pos, p.key), p.value);
      pos = writeUvarint(out, pos, c.deletes.length);
      for (const k of c.deletes) pos = s(pos, k);
      break;
    case "read":
      break;
  }
  if (pos !== size) throw new Error(`invariant: encoded ${pos} of ${size} bytes`);
  return out;
}

const readField = (r: ByteReader): string => r.str();
const skipField = (r: ByteReader): string => {
  r.skipStr();
  return "";
};

function corrupt(message: string): Either<never, CodecError> {
  return err({ code: "CORRUPT", message });
}

/** With `keep` false, every string but the client id is checked and left unbuilt (""). */
function readCommand(r: ByteReader, keep: boolean): Command {
  const field = keep ? readField : skipField;
  const format = r.u8();
  if (format !== COMMAND_FORMAT) throw new DecodeFault(`unknown command format ${format}`);
  const tag = r.u8();
  const clientId = r.str();
  const requestId = r.uvarint();
  switch (tag) {
    case TAG.put: {
      const key = field(r);
      return { type: "put", clientId, requestId, key, value: field(r) };
    }
    case TAG.delete:
      return { type: "delete", clientId, requestId, key: field(r) };
    case TAG.append: {
      const key = field(r);
      return { type: "append", clientId, requestId, key, suffix: field(r) };
    }
    case TAG.incr: {
      const key = field(r);
      const sign = r.u8();
      if (sign > 1) throw new DecodeFault("bad sign");
      const abs = r.uvarint();
      return { type: "incr", clientId, requestId, key, by: sign === 1 ? -abs : abs };
    }
    case TAG.cas: {
      const key = field(r);
      const flags = r.u8();
      if (flags > 3) throw new DecodeFault("bad cas flags");
      const expected = flags & 1 ? field(r) : null;
      const expectedVersion = flags & 2 ? r.uvarint() : undefined;
      const value = field(r);
      return expectedVersion === undefined
        ? { type: "cas", clientId, requestId, key, expected, value }
        : { type: "cas", clientId, requestId, key, expected, expectedVersion, value };
    }
    case TAG.putMany: {
      const n = r.uvarint();
      // each put takes at least 2 bytes: reject absurd counts before allocating
      if (n * 2 > r.remaining) throw new DecodeFault("truncated putMany");
      const puts: KeyValue[] = [];
      for (let i = 0; i < n; i++) {
        const key = field(r);
        puts.push({ key, value: field(r) });
      }
      const m = r.uvarint();
      if (m > r.remaining) throw new DecodeFault("truncated putMany");
      const deletes: string[] = [];
      for (let i = 0; i < m; i++) deletes.push(field(r));
      return { type: "putMany", clientId, requestId, puts, deletes };
    }
    case TAG.read:
      return { type: "read", clientId, requestId };
    default:
      throw new DecodeFault(`unknown command tag ${tag}`);
  }
}

export function decodeCommand(bytes: Uint8Array): Either<Command, CodecError> {
  return decodeWith(bytes, true);
}

/** Who sent a command and which kind it is. */
export type CommandHead = Pick<Command, "type" | "clientId" | "requestId">;

/**
 * Checks a command exactly as `decodeCommand` does, but builds only its head:
 * a leader handed a forwarded command needs no more until it applies it, and
 * key and value strings built now would live until then, long enough for the
 * young-generation collector to copy them.
 */
export function decodeCommandHead(bytes: Uint8Array): Either<CommandHead, CodecError> {
  return decodeWith(bytes, false);
}

function decodeWith(bytes: Uint8Array, keep: boolean): Either<Command, CodecError> {
  try {
    const r = new ByteReader(bytes);
    const c = readCommand(r, keep);
    if (r.remaining !== 0) return corrupt("trailing bytes after command");
    return ok(c);
  } catch (e) {
    if (e instanceof DecodeFault) return corrupt(e.message);
    throw e;
  }
}

/**
 * A batch (one log entry) is `uvarint count · (uvarint length · command)^count`.
 * It is built from already-encoded commands by concatenation only.
 */
export function encodeBatch(encoded: readonly Uint8Array[]): Uint8Array {
  let size = uvarintSize(encoded.length);
  for (const e of encoded) size += uvarintSize(e.length) + e.length;
  const out = allocBytes(size);
  let pos = writeUvarint(out, 0, encoded.length);
  for (const e of encoded) {
    pos = writeUvarint(out, pos, e.length);
    out.set(e, pos);
    pos += e.length;
  }
  return out;
}

export function decodeBatch(bytes: Uint8Array): Either<Command[], CodecError> {
  try {
    const r = new ByteReader(bytes);
    const n = r.uvarint();
    if (n > r.remaining) return corrupt("batch count larger than the batch");
    const commands: Command[] = [];
    for (let i = 0; i < n; i++) {
      const len = r.uvarint();
      if (len > r.remaining) return corrupt("truncated batch");
      const sub = new ByteReader(bytes, r.pos, r.pos + len);
      commands.push(readCommand(sub, true));
      if (sub.remaining !== 0) return corrupt("trailing bytes after command in batch");
      r.pos += len;
    }
    if (r.remaining !== 0) return corrupt("trailing bytes after batch");
    return ok(commands);
  } catch (e) {
    if (e instanceof DecodeFault) return corrupt(e.message);
    throw e;
  }
}
