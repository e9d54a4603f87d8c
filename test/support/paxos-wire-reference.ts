import { type Ballot, type Message, NOOP, type NodeId, nodeId, type Value } from "../../consensus";

/**
 * The reference mapping of core messages to and from the protobuf shapes of
 * proto/paxlog.proto as proto-loader presents them (camelCase fields,
 * numbers for uint64, the oneof case in `body`): what the replicas sent
 * through protobufjs before transport/grpc/paxos-codec.ts encoded by hand.
 * The wire tests check the hand-written codec against it both ways.
 */
export type WireMessage = Record<string, unknown> & { from: number; to: number; body?: string };

interface WireBallot {
  round: number;
  nodeId: number;
}
interface WireValue {
  noop: boolean;
  commands: Uint8Array[];
}

const toWireValue = (v: Value): WireValue =>
  v.type === "noop"
    ? { noop: true, commands: [] }
    : { noop: false, commands: v.commands as Uint8Array[] };

const fromWireValue = (v: WireValue | null | undefined): Value =>
  !v || v.noop ? NOOP : { type: "batch", commands: v.commands };

const fromWireBallot = (b: WireBallot | null | undefined): Ballot => ({
  round: b?.round ?? 0,
  nodeId: b?.nodeId ?? 0,
});

export function toWire(m: Message): WireMessage {
  const head = { from: m.from, to: m.to };
  switch (m.type) {
    case "prepare":
      return { ...head, prepare: { ballot: m.ballot, fromIndex: m.fromIndex } };
    case "promise":
      return {
        ...head,
        promise: {
          ballot: m.ballot,
          fromIndex: m.fromIndex,
          recovering: m.recovering,
          entries: m.entries.map((e) => ({
            index: e.index,
            value: toWireValue(e.value),
            ballot: e.ballot ?? undefined,
          })),
        },
      };
    case "nack":
      return { ...head, nack: { ballot: m.ballot, promised: m.promised } };
    case "disposed":
      return {
        ...head,
        disposed: { index: m.index, disposeBelow: m.disposeBelow, snapshotIndex: m.snapshotIndex },
      };
    case "accept":
      return {
        ...head,
        accept: {
          ballot: m.ballot,
          index: m.index,
          value: toWireValue(m.value),
          horizon: m.horizon,
          chosenIndex: m.chosenIndex,
        },
      };
    case "accepted":
      return { ...head, accepted: { ballot: m.ballot, index: m.index } };
    case "commit":
      return {
        ...head,
        commit: {
          ballot: m.ballot,
          chosenIndex: m.chosenIndex,
          disposeBelow: m.disposeBelow,
          horizon: m.horizon,
          heartbeat: m.heartbeat,
          readSeq: m.readSeq ?? 0,
        },
      };
    case "learned":
      return {
        ...head,
        learned: {
          incarnation: m.incarnation,
          learnedIndex: m.learnedIndex,
          promised: m.promised,
          recovering: m.recovering,
          readSeq: m.readSeq ?? 0,
        },
      };
    case "catchup":
      return { ...head, catchup: { fromIndex: m.fromIndex, toIndex: m.toIndex } };
    case "catchup-reply":
      return {
        ...head,
        catchupReply: {
          entries: m.entries.map((e) => ({ index: e.index, value: toWireValue(e.value) })),
          snapshotIndex: m.snapshotIndex,
          chosenIndex: m.chosenIndex,
        },
      };
  }
}

/** Decodes one message; null for a body this version does not know (logged by the caller). */
export function fromWire(w: WireMessage): Message | null {
  const from: NodeId = nodeId(w.from);
  const to: NodeId = nodeId(w.to);
  // biome-ignore lint/suspicious/noExplicitAny: proto-loader objects are untyped
  const b = (w.body ? w[w.body] : undefined) as any;
  if (!b) return null;
  switch (w.body) {
    case "prepare":
      return {
        type: "prepare",
        from,
        to,
        ballot: fromWireBallot(b.ballot),
        fromIndex: b.fromIndex,
      };
    case "promise":
      return {
        type: "promise",
        from,
        to,
        ballot: fromWireBallot(b.ballot),
        fromIndex: b.fromIndex,
        recovering: b.recovering,
        entries: (
          b.entries as { index: number; value: WireValue; ballot: WireBallot | null }[]
        ).map((e) => ({
          index: e.index,
          value: fromWireValue(e.value),
          ballot: e.ballot ? fromWireBallot(e.ballot) : null,
        })),
      };
    case "nack":
      return {
        type: "nack",
        from,
        to,
        ballot: fromWireBallot(b.ballot),
        promised: fromWireBallot(b.promised),
      };
    case "disposed":
      return {
        type: "disposed",
        from,
        to,
        index: b.index,
        disposeBelow: b.disposeBelow,
        snapshotIndex: b.snapshotIndex,
      };
    case "accept":
      return {
        type: "accept",
        from,
        to,
        ballot: fromWireBallot(b.ballot),
        index: b.index,
        value: fromWireValue(b.value),
        horizon: b.horizon,
        chosenIndex: b.chosenIndex,
      };
    case "accepted":
      return { type: "accepted", from, to, ballot: fromWireBallot(b.ballot), index: b.index };
    case "commit":
      return {
        type: "commit",
        from,
        to,
        ballot: fromWireBallot(b.ballot),
        chosenIndex: b.chosenIndex,
        disposeBelow: b.disposeBelow,
        horizon: b.horizon,
        heartbeat: b.heartbeat,
        ...(b.readSeq ? { readSeq: b.readSeq } : {}),
      };
    case "learned":
      return {
        type: "learned",
        from,
        to,
        incarnation: b.incarnation,
        learnedIndex: b.learnedIndex,
        promised: fromWireBallot(b.promised),
        recovering: b.recovering,
        ...(b.readSeq ? { readSeq: b.readSeq } : {}),
      };
    case "catchup":
      return { type: "catchup", from, to, fromIndex: b.fromIndex, toIndex: b.toIndex };
    case "catchupReply":
      return {
        type: "catchup-reply",
        from,
        to,
        entries: (b.entries as { index: number; value: WireValue }[]).map((e) => ({
          index: e.index,
          value: fromWireValue(e.value),
        })),
        snapshotIndex: b.snapshotIndex,
        chosenIndex: b.chosenIndex,
      };
    default:
      return null;
  }
}
