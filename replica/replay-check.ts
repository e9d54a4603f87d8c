import type { DecidedEntry } from "../consensus";
import { type DomainConfig, logIndex } from "../domain";
import { digest } from "../projections/digest";
import { replay } from "../projections/replay";
import { encodeSnapshot } from "../projections/snapshot";
import type { Logger } from "../transport/log";
import type { ReplayReport } from "../transport/rest/service";
import { decodeEntry, type StateMachine } from "./state-machine";

/**
 * Rebuilds the state from the latest snapshot (through its encoded form, so
 * the snapshot codec is checked too) plus the retained log after it, and
 * compares the result's digest with the live state's. Synchronous: the live
 * state cannot move meanwhile. Costs a full encode, decode and two digests.
 */
export function replayCheck(
  machine: StateMachine,
  retainedLog: (from: number, to: number) => readonly DecidedEntry[],
  config: DomainConfig,
  log: Logger,
): ReplayReport {
  const started = Date.now();
  const snapshot = machine.latestSnapshot;
  const applied = machine.appliedIndex;
  const entries = retainedLog(snapshot.index + 1, applied);
  const contiguous = entries.every((e, i) => e.index === snapshot.index + 1 + i);
  const complete = contiguous && snapshot.index + entries.length === applied;
  const rebuilt = replay(
    snapshot.index > 0 ? encodeSnapshot(snapshot.view) : undefined,
    entries.map((e) => ({ index: logIndex(e.index), commands: decodeEntry(e, log) })),
    config,
  );
  const liveDigest = digest(machine.current);
  const replayedDigest = rebuilt.ok ? digest(rebuilt.value) : null;
  return {
    snapshotIndex: snapshot.index,
    appliedIndex: applied,
    entriesReplayed: entries.length,
    complete,
    liveDigest,
    replayedDigest,
    match: complete && replayedDigest === liveDigest,
    error: rebuilt.ok ? null : rebuilt.error.message,
    millis: Date.now() - started,
  };
}
