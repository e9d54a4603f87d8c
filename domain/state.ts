import type { CommandResult } from "./results";
import type { ClientId, KeyEntry, LogIndex, RequestId } from "./types";

/** The exactly-once record for one client. */
export interface ClientSession {
  readonly lastRequestId: RequestId;
  /** Log index of the last applied request; drives expiry. */
  readonly lastIndex: LogIndex;
  readonly lastResult: CommandResult;
}

/** What the decider reads. */
export interface KvReader {
  getEntry(key: string): KeyEntry | undefined;
  getSession(clientId: ClientId): ClientSession | undefined;
}

/**
 * What evolve writes. The projection implements it over an immer draft of
 * its B+tree (so the persistent state stays immutable and shares
 * structure); `initialState()` below is a plain in-memory model used as the
 * reference in tests.
 */
export interface KvStore extends KvReader {
  setEntry(key: string, entry: KeyEntry): void;
  deleteEntry(key: string): void;
  setSession(clientId: ClientId, session: ClientSession): void;
  /** Forget every client whose `lastIndex < idleBefore`. */
  expireSessions(idleBefore: LogIndex): void;
}

/** Reference state: Maps, never iterated for anything order-dependent. */
export class MemoryState implements KvStore {
  readonly entries = new Map<string, KeyEntry>();
  readonly sessions = new Map<ClientId, ClientSession>();

  getEntry(key: string): KeyEntry | undefined {
    return this.entries.get(key);
  }
  getSession(clientId: ClientId): ClientSession | undefined {
    return this.sessions.get(clientId);
  }
  setEntry(key: string, entry: KeyEntry): void {
    this.entries.set(key, entry);
  }
  deleteEntry(key: string): void {
    this.entries.delete(key);
  }
  setSession(clientId: ClientId, session: ClientSession): void {
    this.sessions.set(clientId, session);
  }
  expireSessions(idleBefore: LogIndex): void {
    for (const [id, s] of this.sessions) if (s.lastIndex < idleBefore) this.sessions.delete(id);
  }
}

export function initialState(): MemoryState {
  return new MemoryState();
}
