import { freeze } from "immer";
import {
  applyEntry,
  type ClientId,
  type ClientSession,
  type Command,
  type CommandResult,
  DEFAULT_CONFIG,
  type DomainConfig,
  type KeyEntry,
  type KvEvent,
  type KvStore,
  type LogIndex,
  NO_INDEX,
} from "../domain";
import {
  type BTree,
  btreeDelete,
  btreeFirst,
  btreeGet,
  btreeSet,
  DEFAULT_FANOUT,
  Edit,
  emptyTree,
  type MTree,
} from "./btree";
import { type Change, changeOf } from "./change-feed";
import { projectionImmer } from "./immer";
import { EntryRecord, SessionRecord } from "./records";

/**
 * The KV projection: the state after applying log entries 1..appliedIndex.
 * Immutable; each `applyBatch` returns a new version sharing every
 * untouched node with the old one, so holding on to an old version is an
 * O(1) snapshot.
 */
export interface KvProjection {
  readonly appliedIndex: LogIndex;
  /** key → {value, version, modIndex} */
  readonly kv: BTree<KeyEntry>;
  /** clientId → exactly-once record */
  readonly sessions: BTree<ClientSession>;
  /**
   * The same clients, each once, ordered by (an index at or below its
   * lastIndex, clientId), so expiry pops the idle ones from the front
   * instead of scanning every client (see TreeStore.expireSessions).
   */
  readonly idle: BTree<ClientId>;
  /** Not part of the state proper (not in snapshots or digests); must match cluster-wide. */
  readonly config: DomainConfig;
}

export function createProjection(
  config: DomainConfig = DEFAULT_CONFIG,
  fanout = DEFAULT_FANOUT,
): KvProjection {
  return freeze(
    {
      appliedIndex: NO_INDEX,
      kv: emptyTree<KeyEntry>(fanout),
      sessions: emptyTree<ClientSession>(fanout),
      idle: emptyTree<ClientId>(fanout),
      config,
    },
    true,
  );
}

/** Fixed-width index prefix: string order of idle keys = (lastIndex, clientId) order. */
export function idleKey(index: LogIndex, clientId: ClientId): string {
  return String(index).padStart(16, "0") + clientId;
}

interface MutableProjection {
  appliedIndex: LogIndex;
  kv: BTree<KeyEntry>;
  sessions: BTree<ClientSession>;
  idle: BTree<ClientId>;
}

/** A mutable copy of a tree header, so tree reads and writes never go through an immer proxy. */
const ownHeader = <V>(t: BTree<V>): MTree<V> => ({ root: t.root, size: t.size, fanout: t.fanout });

/**
 * The domain's KvStore for one batch, over mutable copies of the three tree
 * headers of the base projection; `finish()` freezes the result and
 * `writeTo` stores the headers that changed into the projection's draft.
 * Session writes are buffered and written to the trees once per client by
 * `flush()` (a batch only needs each client's last record; the per-command
 * results are returned separately), so a batch of n commands from c
 * clients does c session/idle tree writes instead of n.
 */
class TreeStore implements KvStore {
  private readonly pending = new Map<ClientId, SessionRecord>();
  /** Nodes created by this batch are written in place, then frozen by `finish()`. */
  private readonly edit = new Edit();
  private readonly kv: MTree<KeyEntry>;
  private readonly sessions: MTree<ClientSession>;
  private readonly idle: MTree<ClientId>;

  constructor(base: KvProjection) {
    this.kv = ownHeader(base.kv);
    this.sessions = ownHeader(base.sessions);
    this.idle = ownHeader(base.idle);
  }

  getEntry(key: string): KeyEntry | undefined {
    return btreeGet(this.kv, key);
  }
  getSession(clientId: ClientId): ClientSession | undefined {
    return this.pending.get(clientId) ?? btreeGet(this.sessions, clientId);
  }
  setEntry(key: string, e: KeyEntry): void {
    btreeSet(
      this.kv,
      key,
      e instanceof EntryRecord ? e : new EntryRecord(e.value, e.version, e.modIndex),
      this.edit,
    );
  }
  deleteEntry(key: string): void {
    btreeDelete(this.kv, key, this.edit);
  }
  setSession(clientId: ClientId, s: ClientSession): void {
    this.pending.set(
      clientId,
      s instanceof SessionRecord
        ? s
        : new SessionRecord(s.lastRequestId, s.lastIndex, s.lastResult),
    );
  }
  /**
   * Writes the buffered sessions to the tree. Only a new client gets an
   * idle-order key: a known one keeps its key, whose index may now be older
   * than its last write (expireSessions re-files it when it reaches the
   * front). Moving every writer's key on every batch was two of the four
   * tree writes of a put.
   */
  private flush(): void {
    for (const [clientId, s] of this.pending) {
      if (btreeGet(this.sessions, clientId) === undefined)
        btreeSet(this.idle, idleKey(s.lastIndex, clientId), clientId, this.edit);
      btreeSet(this.sessions, clientId, s, this.edit);
    }
    this.pending.clear();
  }
  /**
   * Forgets the clients whose last write is below `idleBefore`. Every client
   * has one idle key, at or below its last write: keys below `idleBefore`
   * are taken from the front, and each is either expired or re-filed at the
   * client's last write (at or above `idleBefore`), so the walk ends.
   */
  expireSessions(idleBefore: LogIndex): void {
    this.flush();
    const horizon = idleKey(idleBefore, "");
    for (;;) {
      const first = btreeFirst(this.idle);
      if (first === undefined || first.key >= horizon) return;
      const clientId = first.val;
      const session = btreeGet(this.sessions, clientId);
      if (session === undefined)
        throw new Error(`invariant: idle key ${first.key} without a session`);
      btreeDelete(this.idle, first.key, this.edit);
      if (session.lastIndex < idleBefore) btreeDelete(this.sessions, clientId, this.edit);
      else btreeSet(this.idle, idleKey(session.lastIndex, clientId), clientId, this.edit);
    }
  }
  /** Ends the batch: flushes the sessions and freezes every node it created. */
  finish(): void {
    this.flush();
    this.edit.finish();
  }
  /** Stores each changed tree (a new frozen header) into the projection's draft. */
  writeTo(d: MutableProjection, base: KvProjection): void {
    const changed = <V>(t: MTree<V>, b: BTree<V>) => t.root !== b.root || t.size !== b.size;
    if (changed(this.kv, base.kv)) d.kv = Object.freeze(this.kv);
    if (changed(this.sessions, base.sessions)) d.sessions = Object.freeze(this.sessions);
    if (changed(this.idle, base.idle)) d.idle = Object.freeze(this.idle);
  }
}

export interface BatchOutcome {
  readonly projection: KvProjection;
  /** One per command, in order (read markers included). */
  readonly results: CommandResult[];
  /** The key changes this entry made, in order (feed them to the change feed). */
  readonly changes: Change[];
}

/**
 * Applies the decided entry at `index` (all its commands) in one `produce`.
 * `index` must be above `appliedIndex` (entries are applied in log order;
 * an index without commands may be skipped or applied with `[]`, which gives
 * the same state). Violating that is a replica bug: it throws.
 */
export function applyBatch(
  projection: KvProjection,
  index: LogIndex,
  commands: readonly Command[],
): BatchOutcome {
  if (!(Number.isSafeInteger(index) && index > projection.appliedIndex)) {
    throw new Error(
      `invariant: applyBatch(${index}) after appliedIndex ${projection.appliedIndex}: entries must be applied in order`,
    );
  }
  let results: CommandResult[] = [];
  const changes: Change[] = [];
  const collect = (e: KvEvent) => {
    const c = changeOf(e);
    if (c !== undefined) changes.push(c);
  };
  const next = projectionImmer.produce(projection, (draft) => {
    const d = draft as unknown as MutableProjection;
    const store = new TreeStore(projection);
    results = applyEntry(store, index, commands, projection.config, collect);
    store.finish();
    store.writeTo(d, projection);
    d.appliedIndex = index;
  });
  return { projection: next, results, changes };
}

/** Shorthand readers. */
export function getEntry(p: KvProjection, key: string): KeyEntry | undefined {
  return btreeGet(p.kv, key);
}

export function getSession(p: KvProjection, clientId: ClientId): ClientSession | undefined {
  return btreeGet(p.sessions, clientId);
}
