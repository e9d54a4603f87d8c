import { type ByteReader, type ByteWriter, DecodeFault } from "./bytes";
import { ERROR_CODES, type ErrorCode } from "./errors";
import type { CommandResult } from "./results";
import type { LogIndex } from "./types";

/**
 * Binary form of a CommandResult, used where results are stored (the
 * exactly-once table in snapshots and digests). Canonical: equal results
 * give equal bytes, whatever their property order in memory.
 *   u8 tag · uvarint index · fields by tag (see below)
 */
const TAG = {
  put: 1,
  incr: 2,
  append: 3,
  deleted: 4,
  cas: 5,
  txn: 6,
  read: 7,
  rejected: 8,
} as const;

export function writeResult(w: ByteWriter, r: CommandResult): void {
  w.u8(TAG[r.type]);
  w.uvarint(r.index);
  switch (r.type) {
    case "put":
    case "incr":
    case "append":
      w.str(r.key);
      w.str(r.value);
      w.uvarint(r.version);
      break;
    case "deleted":
      w.str(r.key);
      w.u8(r.deleted ? 1 : 0);
      break;
    case "cas":
      w.u8((r.succeeded ? 1 : 0) | (r.value === null ? 0 : 2));
      w.str(r.key);
      if (r.value !== null) w.str(r.value);
      w.uvarint(r.version);
      break;
    case "rejected":
      w.u8(ERROR_CODES.indexOf(r.code));
      w.str(r.message);
      break;
    case "txn":
    case "read":
      break;
  }
}

/** Throws DecodeFault on bad input; callers catch it at their boundary. */
export function readResult(rd: ByteReader): CommandResult {
  const tag = rd.u8();
  const index = rd.uvarint() as LogIndex;
  switch (tag) {
    case TAG.put:
    case TAG.incr:
    case TAG.append: {
      const type = tag === TAG.put ? "put" : tag === TAG.incr ? "incr" : "append";
      const key = rd.str();
      const value = rd.str();
      return { type, key, value, version: rd.uvarint(), index };
    }
    case TAG.deleted: {
      const key = rd.str();
      const d = rd.u8();
      if (d > 1) throw new DecodeFault("bad deleted flag");
      return { type: "deleted", key, deleted: d === 1, index };
    }
    case TAG.cas: {
      const flags = rd.u8();
      if (flags > 3) throw new DecodeFault("bad cas flags");
      const key = rd.str();
      const value = flags & 2 ? rd.str() : null;
      return {
        type: "cas",
        succeeded: (flags & 1) === 1,
        key,
        value,
        version: rd.uvarint(),
        index,
      };
    }
    case TAG.txn:
      return { type: "txn", index };
    case TAG.read:
      return { type: "read", index };
    case TAG.rejected: {
      const code: ErrorCode | undefined = ERROR_CODES[rd.u8()];
      if (code === undefined) throw new DecodeFault("unknown error code");
      return { type: "rejected", code, message: rd.str(), index };
    }
    default:
      throw new DecodeFault(`unknown result tag ${tag}`);
  }
}
