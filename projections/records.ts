import type { ClientSession, CommandResult, KeyEntry, LogIndex, RequestId } from "../domain";

/**
 * Values stored in the trees are frozen class instances rather than plain
 * objects on purpose: immer does not draft non-plain objects, so reading a
 * value inside `produce` neither creates a proxy nor copies its leaf, and a
 * value handed out of a `produce` (e.g. a remembered result) is never a
 * revoked proxy. They are replaced whole, never mutated.
 */
export class EntryRecord implements KeyEntry {
  constructor(
    readonly value: string,
    readonly version: number,
    readonly modIndex: LogIndex,
  ) {
    Object.freeze(this);
  }
}

export class SessionRecord implements ClientSession {
  constructor(
    readonly lastRequestId: RequestId,
    readonly lastIndex: LogIndex,
    readonly lastResult: CommandResult,
  ) {
    Object.freeze(this);
  }
}
