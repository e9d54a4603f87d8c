/**
 * A tiny, fully explicit harness for unit tests of the consensus core: an
 * n-node cluster of `PaxosNode`s whose in-flight messages sit in one queue
 * until a test delivers (or drops) them. No timers, no randomness: time moves
 * only through `tick`, messages only through `deliver*`.
 */
import { type CoreConfig, DEFAULT_CONFIG } from "../../consensus/config";
import type { CoreEvent, Effects, ReadReady, SnapshotNeed } from "../../consensus/effects";
import type { Message, MessageType } from "../../consensus/messages";
import { PaxosNode, type StartState } from "../../consensus/node";
import {
  type Ballot,
  type DecidedEntry,
  type NodeId,
  nodeId,
  type Value,
} from "../../consensus/types";

export type Config = Omit<CoreConfig, "id" | "members">;
export type Filter = (m: Message) => boolean;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One client command from a string. */
export const cmd = (s: string): Uint8Array => encoder.encode(s);

/** A batch value of string commands. */
export const batch = (...commands: string[]): Value => ({
  type: "batch",
  commands: commands.map(cmd),
});

/** A readable form of a value: "noop", or the commands joined by ",". */
export function show(v: Value): string {
  return v.type === "noop" ? "noop" : v.commands.map((c) => decoder.decode(c)).join(",");
}

export const text = (c: Uint8Array): string => decoder.decode(c);

export const ballot = (round: number, node: number): Ballot => ({ round, nodeId: node });

/** Matches messages by any of their fields (type, from, to, index, ...). */
export function where(fields: {
  type?: MessageType;
  from?: number;
  to?: number;
  index?: number;
}): Filter {
  return (m) => {
    if (fields.type !== undefined && m.type !== fields.type) return false;
    if (fields.from !== undefined && m.from !== fields.from) return false;
    if (fields.to !== undefined && m.to !== fields.to) return false;
    if (fields.index !== undefined && (!("index" in m) || m.index !== fields.index)) return false;
    return true;
  };
}

export const all: Filter = () => true;

export interface ClusterOptions {
  readonly n: number;
  readonly config?: Partial<Config>;
  /** How each node starts (default: a fresh node, fenceRound 0, incarnation 1). */
  readonly start?: (id: NodeId) => StartState;
}

export class Cluster {
  readonly ids: readonly NodeId[];
  readonly config: Config;
  private readonly nodes = new Map<NodeId, PaxosNode>();
  /** Messages sent and not yet delivered or dropped, in send order. */
  queue: Message[] = [];
  /** Every message ever sent, in send order (tests may clear it). */
  sent: Message[] = [];
  /** Per node: decided entries in the order the node released them. */
  readonly decided = new Map<NodeId, DecidedEntry[]>();
  readonly events = new Map<NodeId, CoreEvent[]>();
  readonly rejected = new Map<NodeId, Uint8Array[]>();
  readonly roundRequests = new Map<NodeId, number>();
  readonly snapshotNeeds = new Map<NodeId, SnapshotNeed[]>();
  /** Per node: read-index reads answered ({id, index}) and failed (ids). */
  readonly readsReady = new Map<NodeId, ReadReady[]>();
  readonly readsFailed = new Map<NodeId, number[]>();
  /** The etcd ballot counter stand-in: `elect` takes the next round from it. */
  round = 0;

  constructor(options: ClusterOptions) {
    this.ids = Array.from({ length: options.n }, (_, i) => nodeId(i + 1));
    this.config = { ...DEFAULT_CONFIG, ...options.config };
    for (const id of this.ids) {
      this.start(id, options.start?.(id) ?? { fenceRound: 0, incarnation: 1 });
    }
  }

  /** Replaces node `id` with a fresh incarnation (an amnesiac restart); its state is gone. */
  start(id: NodeId | number, state: StartState): PaxosNode {
    const nid = nodeId(id);
    const node = new PaxosNode({ ...this.config, id: nid, members: this.ids }, state);
    this.nodes.set(nid, node);
    this.decided.set(nid, []);
    this.events.set(nid, []);
    this.rejected.set(nid, []);
    this.roundRequests.set(nid, 0);
    this.snapshotNeeds.set(nid, []);
    this.readsReady.set(nid, []);
    this.readsFailed.set(nid, []);
    return node;
  }

  node(id: NodeId | number): PaxosNode {
    const node = this.nodes.get(nodeId(id));
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** Records one input's effects; returns them for direct inspection. */
  absorb(id: NodeId | number, effects: Effects): Effects {
    const nid = nodeId(id);
    this.queue.push(...effects.messages);
    this.sent.push(...effects.messages);
    this.decided.get(nid)!.push(...effects.decided);
    this.events.get(nid)!.push(...effects.events);
    this.rejected.get(nid)!.push(...effects.rejected);
    if (effects.requestRound) this.roundRequests.set(nid, this.roundRequests.get(nid)! + 1);
    if (effects.snapshotNeeded) this.snapshotNeeds.get(nid)!.push(effects.snapshotNeeded);
    this.readsReady.get(nid)!.push(...effects.readsReady);
    this.readsFailed.get(nid)!.push(...effects.readsFailed);
    return effects;
  }

  // ---- inputs -----------------------------------------------------------------

  step(m: Message): Effects {
    return this.absorb(m.to, this.node(m.to).step(m));
  }

  read(id: NodeId | number, readId: number): Effects {
    return this.absorb(id, this.node(id).readIndex(readId));
  }

  tick(id: NodeId | number): Effects {
    return this.absorb(id, this.node(id).tick());
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const id of this.ids) this.tick(id);
  }

  propose(id: NodeId | number, ...commands: string[]): Effects {
    return this.absorb(id, this.node(id).propose(commands.map(cmd)));
  }

  setHint(leader: NodeId | number | null, on: readonly (NodeId | number)[] = this.ids): void {
    for (const id of on) {
      this.absorb(id, this.node(id).setLeaderHint(leader === null ? null : nodeId(leader)));
    }
  }

  grantRound(id: NodeId | number, round: number): Effects {
    if (round > this.round) this.round = round;
    return this.absorb(id, this.node(id).grantRound(round));
  }

  /** Hint on every node names `id`, and `id` gets the next round; nothing is delivered. */
  campaign(id: NodeId | number, round = this.round + 1): void {
    this.setHint(id);
    this.grantRound(id, round);
  }

  /** `campaign`, then deliver everything until quiet; throws unless `id` leads. */
  elect(id: NodeId | number, round = this.round + 1): void {
    this.campaign(id, round);
    this.deliverAll();
    const role = this.node(id).status().role;
    if (role !== "leader") throw new Error(`node ${id} did not become leader: ${role}`);
  }

  // ---- the network ------------------------------------------------------------

  /** Takes the queued messages that match out of the queue. */
  private take(filter: Filter): Message[] {
    const taken: Message[] = [];
    const kept: Message[] = [];
    for (const m of this.queue) (filter(m) ? taken : kept).push(m);
    this.queue = kept;
    return taken;
  }

  /** Delivers the matching messages queued now (not those their handling sends). */
  deliver(filter: Filter = all): Message[] {
    const taken = this.take(filter);
    for (const m of taken) this.step(m);
    return taken;
  }

  /** Delivers matching messages, and what they cause, until none matches. */
  deliverAll(filter: Filter = all, maxRounds = 1000): number {
    let delivered = 0;
    for (let i = 0; i < maxRounds; i++) {
      const batch = this.deliver(filter);
      if (batch.length === 0) return delivered;
      delivered += batch.length;
    }
    throw new Error(`deliverAll did not quiesce in ${maxRounds} rounds`);
  }

  /** Drops the matching queued messages and returns them. */
  drop(filter: Filter): Message[] {
    return this.take(filter);
  }

  /** The queued messages that match, without taking them. */
  pending(filter: Filter = all): Message[] {
    return this.queue.filter(filter);
  }

  // ---- observations -------------------------------------------------------------

  /** Node `id`'s decided log as readable strings ("noop" or "a,b"). */
  log(id: NodeId | number): string[] {
    return this.decided.get(nodeId(id))!.map((e) => show(e.value));
  }

  /** Indexes node `id` released, in release order. */
  decidedIndexes(id: NodeId | number): number[] {
    return this.decided.get(nodeId(id))!.map((e) => e.index);
  }

  eventsOf(id: NodeId | number, type?: CoreEvent["type"]): CoreEvent[] {
    const events = this.events.get(nodeId(id))!;
    return type === undefined ? events : events.filter((e) => e.type === type);
  }

  rejectedOf(id: NodeId | number): string[] {
    return this.rejected.get(nodeId(id))!.map(text);
  }

  sentOf(filter: Filter): Message[] {
    return this.sent.filter(filter);
  }
}

/** Narrows a message to one type (throws if it is another). */
export function as<T extends MessageType>(
  m: Message | undefined,
  type: T,
): Extract<Message, { type: T }> {
  if (m === undefined || m.type !== type) {
    throw new Error(`expected a ${type} message, got ${m === undefined ? "nothing" : m.type}`);
  }
  return m as Extract<Message, { type: T }>;
}

/** Builders for messages a test injects by hand (as if from a peer). */
export const msg = {
  prepare: (from: number, to: number, b: Ballot, fromIndex: number): Message => ({
    type: "prepare",
    from: nodeId(from),
    to: nodeId(to),
    ballot: b,
    fromIndex,
  }),
  promise: (
    from: number,
    to: number,
    b: Ballot,
    fromIndex: number,
    entries: readonly { index: number; value: Value; ballot: Ballot | null }[],
    recovering = false,
  ): Message => ({
    type: "promise",
    from: nodeId(from),
    to: nodeId(to),
    ballot: b,
    fromIndex,
    recovering,
    entries,
  }),
  accept: (
    from: number,
    to: number,
    b: Ballot,
    index: number,
    value: Value,
    extra: { horizon?: number; chosenIndex?: number } = {},
  ): Message => ({
    type: "accept",
    from: nodeId(from),
    to: nodeId(to),
    ballot: b,
    index,
    value,
    horizon: extra.horizon ?? 0,
    chosenIndex: extra.chosenIndex ?? 0,
  }),
  commit: (
    from: number,
    to: number,
    b: Ballot,
    chosenIndex: number,
    extra: { disposeBelow?: number; horizon?: number; heartbeat?: boolean } = {},
  ): Message => ({
    type: "commit",
    from: nodeId(from),
    to: nodeId(to),
    ballot: b,
    chosenIndex,
    disposeBelow: extra.disposeBelow ?? 1,
    horizon: extra.horizon ?? 0,
    heartbeat: extra.heartbeat ?? false,
  }),
  catchUp: (from: number, to: number, fromIndex: number, toIndex: number): Message => ({
    type: "catchup",
    from: nodeId(from),
    to: nodeId(to),
    fromIndex,
    toIndex,
  }),
  catchUpReply: (
    from: number,
    to: number,
    entries: readonly { index: number; value: Value }[],
    snapshotIndex: number,
    chosenIndex: number,
  ): Message => ({
    type: "catchup-reply",
    from: nodeId(from),
    to: nodeId(to),
    entries,
    snapshotIndex,
    chosenIndex,
  }),
};
