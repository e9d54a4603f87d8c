import { createHash, type Hash } from "node:crypto";
import { freeze } from "immer";
import {
  ByteReader,
  ByteWriter,
  type ClientId,
  type ClientSession,
  DEFAULT_CONFIG,
  DecodeFault,
  type DomainConfig,
  type Either,
  err,
  type KeyEntry,
  type LogIndex,
  ok,
  readResult,
  TruncatedFault,
  writeResult,
} from "../domain";
import { btreeFromSorted, btreeLeaves, DEFAULT_FANOUT } from "./btree";
import { idleKey, type KvProjection } from "./kv-projection";
import { EntryRecord, SessionRecord } from "./records";

/**
 * Snapshot stream, format 1 (all integers uvarint unless said otherwise):
 *
 *   "PXSN" · u16be format (=1) · appliedIndex · kvCount · sessionCount
 *   kvCount × (str key · str value · version · modIndex)          in key order
 *   sessionCount × (str clientId · lastRequestId · lastIndex · result)  in clientId order
 *   sha256 of every byte above (32 bytes)
 *
 * Order is UTF-16 code unit order, so equal states give equal bytes. The
 * encoder reads one immutable projection version: the apply path carries on
 * producing new versions meanwhile. Chunks are at most `chunkSize` bytes.
 * The change feed and the config are not included (see change-feed.ts).
 */
export const SNAPSHOT_MAGIC = [0x50, 0x58, 0x53, 0x4e]; // "PXSN"
export const SNAPSHOT_FORMAT = 1;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
const HASH_BYTES = 32;

export interface SnapshotError {
  readonly code: "SNAPSHOT_CORRUPT" | "SNAPSHOT_TRUNCATED" | "SNAPSHOT_UNSUPPORTED";
  readonly message: string;
}

/** The canonical body (everything but the checksum), in pieces of ≤ chunkSize bytes. */
export function* snapshotBody(
  p: KvProjection,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Generator<Uint8Array> {
  const w = new ByteWriter(Math.min(chunkSize, 64 * 1024) * 2);
  for (const b of SNAPSHOT_MAGIC) w.u8(b);
  w.u8(SNAPSHOT_FORMAT >> 8);
  w.u8(SNAPSHOT_FORMAT & 0xff);
  w.uvarint(p.appliedIndex);
  w.uvarint(p.kv.size);
  w.uvarint(p.sessions.size);
  for (const leaf of btreeLeaves(p.kv)) {
    for (let i = 0; i < leaf.keys.length; i++) {
      const e = leaf.vals[i]!;
      w.str(leaf.keys[i]!);
      w.str(e.value);
      w.uvarint(e.version);
      w.uvarint(e.modIndex);
      if (w.pos >= chunkSize) yield* drain(w, chunkSize, false);
    }
  }
  for (const leaf of btreeLeaves(p.sessions)) {
    for (let i = 0; i < leaf.keys.length; i++) {
      const s = leaf.vals[i]!;
      w.str(leaf.keys[i]!);
      w.uvarint(s.lastRequestId);
      w.uvarint(s.lastIndex);
      writeResult(w, s.lastResult);
      if (w.pos >= chunkSize) yield* drain(w, chunkSize, false);
    }
  }
  yield* drain(w, chunkSize, true);
}

/** Emits full chunks (and, at the end, the rest) as copies; keeps the remainder. */
function* drain(w: ByteWriter, chunkSize: number, all: boolean): Generator<Uint8Array> {
  let from = 0;
  while (w.pos - from >= chunkSize || (all && w.pos > from)) {
    const to = Math.min(from + chunkSize, w.pos);
    yield w.buf.slice(from, to);
    from = to;
  }
  w.buf.copyWithin(0, from, w.pos);
  w.pos -= from;
}

/** The full snapshot stream, checksum included, as chunks of ≤ chunkSize bytes. */
export function* encodeSnapshot(
  p: KvProjection,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Generator<Uint8Array> {
  if (!(chunkSize >= HASH_BYTES)) throw new Error(`chunkSize must be ≥ ${HASH_BYTES}`);
  const hash = createHash("sha256");
  let last: Uint8Array | undefined;
  for (const chunk of snapshotBody(p, chunkSize)) {
    hash.update(chunk);
    if (last !== undefined) yield last;
    last = chunk;
  }
  const sum = new Uint8Array(hash.digest());
  // the checksum joins the last body chunk when it fits, else starts a new one
  if (last !== undefined && last.length + HASH_BYTES <= chunkSize) {
    const joined = new Uint8Array(last.length + HASH_BYTES);
    joined.set(last);
    joined.set(sum, last.length);
    yield joined;
  } else {
    if (last !== undefined) yield last;
    yield sum;
  }
}

class UnsupportedFault extends DecodeFault {}

type Phase = "header" | "kv" | "sessions" | "checksum" | "done";

/**
 * Incremental decoder: `push` chunks as they arrive, then `finish`. Nothing
 * is exposed before the checksum has been verified. Every failure is a
 * value; after a failure every later call returns the same error.
 */
export class SnapshotDecoder {
  private pending = new Uint8Array(0);
  private phase: Phase = "header";
  private failed: SnapshotError | undefined;
  private readonly hash: Hash = createHash("sha256");
  private appliedIndex = 0;
  private kvLeft = 0;
  private sessionsLeft = 0;
  private readonly keys: string[] = [];
  private readonly entries: KeyEntry[] = [];
  private readonly clientIds: string[] = [];
  private readonly sessions: ClientSession[] = [];

  push(chunk: Uint8Array): SnapshotError | undefined {
    if (this.failed) return this.failed;
    if (this.phase === "done") {
      return chunk.length === 0
        ? undefined
        : this.fail("SNAPSHOT_CORRUPT", "bytes after the checksum");
    }
    const buf = new Uint8Array(this.pending.length + chunk.length);
    buf.set(this.pending);
    buf.set(chunk, this.pending.length);
    const r = new ByteReader(buf);
    let mark = 0;
    try {
      for (;;) {
        const before: Phase = this.phase;
        this.step(r);
        // the checksum covers every byte before it
        if (before !== "checksum") this.hash.update(buf.subarray(mark, r.pos));
        mark = r.pos;
        if ((this.phase as Phase) === "done") {
          if (r.remaining > 0) return this.fail("SNAPSHOT_CORRUPT", "bytes after the checksum");
          break;
        }
      }
    } catch (e) {
      if (e instanceof TruncatedFault) {
        // wait for more bytes; the partial record is parsed again next time
      } else if (e instanceof UnsupportedFault) {
        return this.fail("SNAPSHOT_UNSUPPORTED", e.message);
      } else if (e instanceof DecodeFault) {
        return this.fail("SNAPSHOT_CORRUPT", e.message);
      } else {
        throw e;
      }
    }
    this.pending = buf.slice(mark);
    return undefined;
  }

  /** Parses one record of the current phase (throws TruncatedFault if incomplete). */
  private step(r: ByteReader): void {
    switch (this.phase) {
      case "header": {
        for (const b of SNAPSHOT_MAGIC)
          if (r.u8() !== b) throw new DecodeFault("not a snapshot (bad magic)");
        const format = (r.u8() << 8) | r.u8();
        if (format !== SNAPSHOT_FORMAT) {
          throw new UnsupportedFault(
            `snapshot format ${format}, this build reads ${SNAPSHOT_FORMAT}`,
          );
        }
        const appliedIndex = r.uvarint();
        const kv = r.uvarint();
        const sessions = r.uvarint();
        this.appliedIndex = appliedIndex;
        this.kvLeft = kv;
        this.sessionsLeft = sessions;
        this.phase = kv > 0 ? "kv" : sessions > 0 ? "sessions" : "checksum";
        return;
      }
      case "kv": {
        const key = r.str();
        const value = r.str();
        const version = r.uvarint();
        const modIndex = r.uvarint();
        const prev = this.keys[this.keys.length - 1];
        if (prev !== undefined && !(prev < key)) throw new DecodeFault("keys out of order");
        if (version < 1 || modIndex < 1 || modIndex > this.appliedIndex) {
          throw new DecodeFault("bad version or modIndex");
        }
        this.keys.push(key);
        this.entries.push(new EntryRecord(value, version, modIndex as LogIndex));
        if (--this.kvLeft === 0) this.phase = this.sessionsLeft > 0 ? "sessions" : "checksum";
        return;
      }
      case "sessions": {
        const clientId = r.str();
        const lastRequestId = r.uvarint();
        const lastIndex = r.uvarint() as LogIndex;
        const result = readResult(r);
        const prev = this.clientIds[this.clientIds.length - 1];
        if (prev !== undefined && !(prev < clientId)) throw new DecodeFault("clients out of order");
        if (lastIndex > this.appliedIndex) throw new DecodeFault("session from the future");
        this.clientIds.push(clientId);
        this.sessions.push(new SessionRecord(lastRequestId, lastIndex, result));
        if (--this.sessionsLeft === 0) this.phase = "checksum";
        return;
      }
      case "checksum": {
        const sum = r.bytes(HASH_BYTES);
        const expected = new Uint8Array(this.hash.digest());
        if (!sum.every((b, i) => b === expected[i])) throw new DecodeFault("checksum mismatch");
        this.phase = "done";
        return;
      }
      case "done":
        return;
    }
  }

  private fail(code: SnapshotError["code"], message: string): SnapshotError {
    this.failed = { code, message };
    return this.failed;
  }

  /** The restored projection, once the whole stream has been pushed and verified. */
  finish(
    config: DomainConfig = DEFAULT_CONFIG,
    fanout = DEFAULT_FANOUT,
  ): Either<KvProjection, SnapshotError> {
    if (this.failed) return err(this.failed);
    if (this.phase !== "done") {
      return err(this.fail("SNAPSHOT_TRUNCATED", `stream ended in the ${this.phase} section`));
    }
    const order = this.sessions.map((s, i) => ({
      k: idleKey(s.lastIndex, this.clientIds[i]!),
      id: this.clientIds[i]!,
    }));
    order.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    const projection: KvProjection = {
      appliedIndex: this.appliedIndex as LogIndex,
      kv: btreeFromSorted(this.keys, this.entries, fanout),
      sessions: btreeFromSorted(this.clientIds, this.sessions, fanout),
      idle: btreeFromSorted<ClientId>(
        order.map((o) => o.k),
        order.map((o) => o.id),
        fanout,
      ),
      config,
    };
    return ok(freeze(projection, true));
  }
}

/** Decodes a whole stream given as chunks. */
export function decodeSnapshot(
  chunks: Iterable<Uint8Array>,
  config: DomainConfig = DEFAULT_CONFIG,
  fanout = DEFAULT_FANOUT,
): Either<KvProjection, SnapshotError> {
  const d = new SnapshotDecoder();
  for (const c of chunks) {
    const e = d.push(c);
    if (e) return err(e);
  }
  return d.finish(config, fanout);
}
