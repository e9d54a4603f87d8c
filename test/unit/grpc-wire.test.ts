/**
 * The hand-written codecs of the hot gRPC messages against protobufjs (as
 * proto-loader uses it) on proto/paxlog.proto, both ways: the .proto file
 * stays the contract.
 */
import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { type Ballot, FENCE_NODE, type Message, NOOP, nodeId, type Value } from "../../consensus";
import type { ForwardedWire, ForwardReplyWire } from "../../transport/grpc/forward";
import {
  decodePaxosBatch,
  encodePaxosBatch,
  type PeerBatch,
} from "../../transport/grpc/paxos-codec";
import { protoDefinition } from "../../transport/grpc/proto";
import { ProtoReader, ProtoWriter } from "../../transport/grpc/proto-wire";
import { fromWire, toWire, type WireMessage } from "../support/paxos-wire-reference";
import { holds } from "../support/properties";

interface ProtobufjsCodec {
  serialize(value: unknown): Buffer;
  deserialize(bytes: Buffer): Record<string, unknown>;
}
const protobufjs = (name: string) =>
  protoDefinition[`paxlog.v1.${name}`] as unknown as ProtobufjsCodec;
const PaxosBatch = protobufjs("PaxosBatch");

/** A batch of Paxos messages alone. */
const only = (messages: readonly Message[]): PeerBatch => ({
  from: 1,
  messages,
  forwards: [],
  forwardSession: 0,
  replies: [],
  replySession: 0,
});

/** Same content, bytes compared as hex. */
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(plain(a), plain(b));

/** Bytes as hex, undefined fields dropped: comparable whatever the byte container. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array)
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex");
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return x;
}

// ---- arbitraries ------------------------------------------------------------------

/** Small numbers and numbers that need 8-byte varints. */
const arbIndex = () => fc.oneof(fc.nat({ max: 300 }), fc.maxSafeNat());
const arbNode = () => fc.integer({ min: 1, max: 7 }).map(nodeId);
const arbBallot = (): fc.Arbitrary<Ballot> =>
  fc.record({
    round: arbIndex(),
    nodeId: fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constant(FENCE_NODE)),
  });
const arbBytes = () => fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
const arbValue = (): fc.Arbitrary<Value> =>
  fc.oneof(
    fc.constant(NOOP),
    fc
      .array(arbBytes(), { maxLength: 5 })
      .map((commands) => ({ type: "batch" as const, commands })),
  );

function arbMessage(): fc.Arbitrary<Message> {
  const head = { from: arbNode(), to: arbNode() };
  const c = <T extends string>(type: T) => fc.constant(type);
  return fc.oneof(
    fc.record({ type: c("prepare"), ...head, ballot: arbBallot(), fromIndex: arbIndex() }),
    fc.record({
      type: c("promise"),
      ...head,
      ballot: arbBallot(),
      fromIndex: arbIndex(),
      recovering: fc.boolean(),
      entries: fc.array(
        fc.record({
          index: arbIndex(),
          value: arbValue(),
          ballot: fc.option(arbBallot(), { nil: null }),
        }),
        { maxLength: 4 },
      ),
    }),
    fc.record({ type: c("nack"), ...head, ballot: arbBallot(), promised: arbBallot() }),
    fc.record({
      type: c("disposed"),
      ...head,
      index: arbIndex(),
      disposeBelow: arbIndex(),
      snapshotIndex: arbIndex(),
    }),
    fc.record({
      type: c("accept"),
      ...head,
      ballot: arbBallot(),
      index: arbIndex(),
      value: arbValue(),
      horizon: arbIndex(),
      chosenIndex: arbIndex(),
    }),
    fc.record({ type: c("accepted"), ...head, ballot: arbBallot(), index: arbIndex() }),
    fc.record(
      {
        type: c("commit"),
        ...head,
        ballot: arbBallot(),
        chosenIndex: arbIndex(),
        disposeBelow: arbIndex(),
        horizon: arbIndex(),
        heartbeat: fc.boolean(),
        readSeq: fc.integer({ min: 1, max: 2 ** 40 }),
      },
      {
        requiredKeys: [
          "type",
          "from",
          "to",
          "ballot",
          "chosenIndex",
          "disposeBelow",
          "horizon",
          "heartbeat",
        ],
      },
    ),
    fc.record(
      {
        type: c("learned"),
        ...head,
        incarnation: arbIndex(),
        learnedIndex: arbIndex(),
        promised: arbBallot(),
        recovering: fc.boolean(),
        readSeq: fc.integer({ min: 1, max: 2 ** 40 }),
      },
      {
        requiredKeys: [
          "type",
          "from",
          "to",
          "incarnation",
          "learnedIndex",
          "promised",
          "recovering",
        ],
      },
    ),
    fc.record({ type: c("catchup"), ...head, fromIndex: arbIndex(), toIndex: arbIndex() }),
    fc.record({
      type: c("catchup-reply"),
      ...head,
      entries: fc.array(fc.record({ index: arbIndex(), value: arbValue() }), { maxLength: 4 }),
      snapshotIndex: arbIndex(),
      chosenIndex: arbIndex(),
    }),
  ) as fc.Arbitrary<Message>;
}

const arbBatch = () => fc.array(arbMessage(), { maxLength: 6 });

// ---- Paxos batches ----------------------------------------------------------------

test("Paxos batches encoded by hand decode in protobufjs to the same messages", (t) => {
  holds(
    t,
    fc.property(arbBatch(), (messages) => {
      const decoded = PaxosBatch.deserialize(encodePaxosBatch(only(messages)));
      const back = (decoded["messages"] as WireMessage[]).map(fromWire);
      return same(back, messages);
    }),
    { numRuns: 500 },
  );
});

test("Paxos batches encoded by protobufjs decode by hand to the same messages", (t) => {
  holds(
    t,
    fc.property(arbBatch(), (messages) => {
      const bytes = PaxosBatch.serialize({ messages: messages.map(toWire) });
      const decoded = decodePaxosBatch(bytes);
      return decoded.dropped.length === 0 && same(decoded.messages, messages);
    }),
    { numRuns: 500 },
  );
});

test("a truncated Paxos batch throws or yields a prefix of its messages, never garbage", (t) => {
  holds(
    t,
    fc.property(arbBatch(), fc.nat(), (messages, cut) => {
      const bytes = encodePaxosBatch(only(messages));
      if (bytes.length === 0) return true;
      let decoded: Message[];
      try {
        decoded = decodePaxosBatch(bytes.subarray(0, cut % bytes.length)).messages;
      } catch {
        return true;
      }
      return same(decoded, messages.slice(0, decoded.length));
    }),
    { numRuns: 1000 },
  );
});

test("a message body from a newer peer is reported as dropped, the rest still decode", (t) => {
  const known: Message = {
    type: "accepted",
    from: nodeId(2),
    to: nodeId(1),
    ballot: { round: 3, nodeId: 2 },
    index: 9,
  };
  // PaxosMessage { from: 3, to: 1, <field 20>: {} } next to a known one.
  const w = new ProtoWriter(64);
  const mark = w.length;
  w.endMessage(20, w.length);
  w.uint(2, 1);
  w.uint(1, 3);
  w.endMessage(1, mark);
  const unknown = w.finish();
  const decoded = decodePaxosBatch(Buffer.concat([encodePaxosBatch(only([known])), unknown]));
  t.deepEqual(decoded.messages, [known]);
  t.deepEqual(decoded.dropped, [{ from: 3, field: 20 }]);
});

test("varints round-trip up to 2^53 - 1; negative or fractional numbers are refused", (t) => {
  for (const n of [0, 1, 127, 128, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
    const w = new ProtoWriter(1);
    w.uintPresent(1, n);
    const r = new ProtoReader(w.finish());
    t.is(r.tag(), 8);
    t.is(r.varint(), n, String(n));
  }
  t.throws(() => new ProtoWriter(8).uint(1, -1), { instanceOf: RangeError });
  t.throws(() => new ProtoWriter(8).uint(1, 1.5), { instanceOf: RangeError });
});

// ---- forwarded commands -----------------------------------------------------------

const arbForwarded = (): fc.Arbitrary<ForwardedWire> =>
  fc.record({
    id: arbIndex(),
    command: arbBytes(),
    timeoutMs: fc.nat({ max: 2 ** 32 - 1 }),
  });

const arbReply = (): fc.Arbitrary<ForwardReplyWire> =>
  fc.oneof(
    fc.record({
      id: arbIndex(),
      outcome: fc.constant("result" as const),
      result: arbBytes(),
      index: arbIndex(),
    }),
    fc.record({
      id: arbIndex(),
      outcome: fc.constant("notLeader" as const),
      notLeader: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ id: arbIndex(), outcome: fc.constant("timeout" as const), timeout: fc.string() }),
    fc.record({ id: arbIndex(), outcome: fc.constant("failed" as const), failed: fc.string() }),
  );

/** Paxos messages, forwards and answers together, as a turn sends them. */
const arbPeerBatch = (): fc.Arbitrary<PeerBatch> =>
  fc.record({
    from: fc.integer({ min: 0, max: 7 }),
    messages: fc.array(arbMessage(), { maxLength: 4 }),
    forwards: fc.array(arbForwarded(), { maxLength: 6 }),
    forwardSession: arbIndex(),
    replies: fc.array(arbReply(), { maxLength: 6 }),
    replySession: arbIndex(),
  });

/** A reply as proto-loader presents it (the oneof case in `outcome`) → our shape. */
function fromProtoLoaderReply(o: Record<string, unknown>): ForwardReplyWire {
  const outcome = o["outcome"] as ForwardReplyWire["outcome"];
  const id = o["id"] as number;
  return outcome === "result"
    ? { id, outcome, result: o["result"] as Uint8Array, index: o["index"] as number }
    : ({ id, outcome, [outcome]: o[outcome] } as ForwardReplyWire);
}

/** Our reply → proto-loader's object shape. */
function toProtoLoaderReply(r: ForwardReplyWire): Record<string, unknown> {
  return r.outcome === "result"
    ? { id: r.id, result: r.result, index: r.index }
    : { id: r.id, [r.outcome]: (r as unknown as Record<string, unknown>)[r.outcome] };
}

test("batches with forwarded commands and answers cross between the hand codec and protobufjs unchanged, both ways", (t) => {
  holds(
    t,
    fc.property(arbPeerBatch(), (batch) => {
      const o = PaxosBatch.deserialize(encodePaxosBatch(batch));
      const viaProtobufjs: PeerBatch = {
        from: o["from"] as number,
        messages: (o["messages"] as WireMessage[]).map(fromWire) as Message[],
        forwards: o["forwards"] as ForwardedWire[],
        forwardSession: o["forwardSession"] as number,
        replies: (o["replies"] as Record<string, unknown>[]).map(fromProtoLoaderReply),
        replySession: o["replySession"] as number,
      };
      const bytes = PaxosBatch.serialize({
        ...batch,
        messages: batch.messages.map(toWire),
        replies: batch.replies.map(toProtoLoaderReply),
      });
      const { dropped, ...byHand } = decodePaxosBatch(bytes);
      return same(viaProtobufjs, batch) && dropped.length === 0 && same(byHand, batch);
    }),
    { numRuns: 500 },
  );
});
