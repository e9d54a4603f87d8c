import {
  type Command,
  DEFAULT_CONFIG,
  type DomainConfig,
  type Either,
  err,
  type LogIndex,
  ok,
} from "../domain";
import { DEFAULT_FANOUT } from "./btree";
import { applyBatch, createProjection, type KvProjection } from "./kv-projection";
import { decodeSnapshot, type SnapshotError } from "./snapshot";

export interface DecidedEntry {
  readonly index: LogIndex;
  readonly commands: readonly Command[];
}

export interface ReplayError {
  readonly code: "SNAPSHOT";
  readonly message: string;
  readonly snapshot?: SnapshotError;
}

/**
 * Rebuilds a projection from a snapshot stream (or from nothing) plus the
 * decided entries after it, in log order. Any entry at or below the index
 * reached so far is skipped (a log may overlap the snapshot), so entries out
 * of order are ignored rather than reported. Used by recovery and by the
 * future `paxlog replay` CLI.
 */
export function replay(
  snapshot: Iterable<Uint8Array> | undefined,
  entries: Iterable<DecidedEntry>,
  config: DomainConfig = DEFAULT_CONFIG,
  fanout = DEFAULT_FANOUT,
): Either<KvProjection, ReplayError> {
  let p: KvProjection;
  if (snapshot === undefined) {
    p = createProjection(config, fanout);
  } else {
    const s = decodeSnapshot(snapshot, config, fanout);
    if (!s.ok) return err({ code: "SNAPSHOT", message: s.error.message, snapshot: s.error });
    p = s.value;
  }
  for (const e of entries) {
    if (e.index <= p.appliedIndex) continue;
    p = applyBatch(p, e.index, e.commands).projection;
  }
  return ok(p);
}
