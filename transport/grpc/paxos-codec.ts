import {
  type Ballot,
  type LogIndex,
  type Message,
  NOOP,
  type NodeId,
  nodeId,
  type PromiseEntry,
  type Value,
} from "../../consensus";
import type { ForwardedWire, ForwardReplyWire } from "./forward";
import {
  forwardedSize,
  readForwarded,
  readReply,
  replySize,
  writeForwarded,
  writeReply,
} from "./forward-codec";
import { ProtoReader, ProtoWriter } from "./proto-wire";

/**
 * `PaxosBatch` (proto/paxlog.proto) straight from and to the core's
 * messages and the forwarded commands and answers that share the batch.
 * Command bytes are copied into the batch as they are, and come out as
 * views of the received buffer: never re-encoded.
 */

/** One batch from one replica to another: a turn's Paxos messages, forwards and answers. */
export interface PeerBatch {
  readonly from: number;
  readonly messages: readonly Message[];
  /** Client commands the sender forwards to the receiver, under `forwardSession`. */
  readonly forwards: readonly ForwardedWire[];
  readonly forwardSession: number;
  /** Answers to commands the receiver forwarded under its session `replySession`. */
  readonly replies: readonly ForwardReplyWire[];
  readonly replySession: number;
}

/** Body field numbers of `PaxosMessage`, by core message type. */
const BODY_FIELD: Record<Message["type"], number> = {
  prepare: 3,
  promise: 4,
  nack: 5,
  disposed: 6,
  accept: 7,
  accepted: 8,
  commit: 9,
  learned: 10,
  catchup: 11,
  "catchup-reply": 12,
};

export interface DecodedPaxosBatch extends PeerBatch {
  readonly messages: Message[];
  /** Messages with a body this version does not know (a newer peer): dropped, for the log. */
  readonly dropped: { readonly from: number; readonly field: number | null }[];
}

export function encodePaxosBatch(batch: PeerBatch): Buffer {
  const { messages, forwards, replies } = batch;
  let capacity = 32;
  for (const m of messages) capacity += estimate(m);
  for (const f of forwards) capacity += forwardedSize(f);
  for (const r of replies) capacity += replySize(r);
  const w = new ProtoWriter(capacity);
  w.uint(6, batch.replySession);
  for (let i = replies.length - 1; i >= 0; i--) writeReply(w, 5, replies[i]!);
  w.uint(4, batch.forwardSession);
  for (let i = forwards.length - 1; i >= 0; i--) writeForwarded(w, 3, forwards[i]!);
  w.uint(2, batch.from);
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    const mark = w.length;
    writeBody(w, m);
    w.uint(2, m.to);
    w.uint(1, m.from);
    w.endMessage(1, mark);
  }
  return w.finish();
}

export function decodePaxosBatch(buf: Uint8Array): DecodedPaxosBatch {
  const r = new ProtoReader(buf);
  const messages: Message[] = [];
  const dropped: { from: number; field: number | null }[] = [];
  const forwards: ForwardedWire[] = [];
  const replies: ForwardReplyWire[] = [];
  let sender = 0;
  let forwardSession = 0;
  let replySession = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | 2)) {
      if (tag === 16) sender = r.varint();
      else if (tag === 26) forwards.push(readForwarded(r));
      else if (tag === 32) forwardSession = r.varint();
      else if (tag === 42) replies.push(readReply(r));
      else if (tag === 48) replySession = r.varint();
      else r.skip(tag);
      continue;
    }
    const end = r.enter();
    let from = 0;
    let to = 0;
    let body: { field: number; start: number; end: number } | null = null;
    let unknownField: number | null = null;
    while (r.pos < end) {
      const t = r.tag();
      const field = t >>> 3;
      if (t === 8) from = r.varint();
      else if (t === 16) to = r.varint();
      else if ((t & 7) === 2 && field >= 3 && field <= 12) {
        const bodyEnd = r.enter();
        // A oneof: the last body on the wire wins.
        body = { field, start: r.pos, end: bodyEnd };
        r.pos = bodyEnd;
      } else {
        if ((t & 7) === 2 && field > 12) unknownField = field;
        r.skip(t);
      }
    }
    if (r.pos !== end) throw new RangeError("PaxosMessage overran its length");
    if (!body) {
      dropped.push({ from, field: unknownField });
      continue;
    }
    const after = r.pos;
    r.pos = body.start;
    messages.push(readBody(r, body.field, body.end, nodeId(from), nodeId(to)));
    r.pos = after;
  }
  return { from: sender, messages, dropped, forwards, forwardSession, replies, replySession };
}

// ---- encoding ---------------------------------------------------------------------

/** An upper bound of a message's encoded size, so the writer rarely grows. */
function estimate(m: Message): number {
  switch (m.type) {
    case "accept":
      return 96 + valueSize(m.value);
    case "promise": {
      let n = 96;
      for (const e of m.entries) n += 48 + valueSize(e.value);
      return n;
    }
    case "catchup-reply": {
      let n = 64;
      for (const e of m.entries) n += 32 + valueSize(e.value);
      return n;
    }
    default:
      return 96;
  }
}

function valueSize(v: Value): number {
  if (v.type === "noop") return 4;
  let n = 8;
  for (const c of v.commands) n += c.byteLength + 6;
  return n;
}

function writeBallot(w: ProtoWriter, field: number, b: Ballot): void {
  const mark = w.length;
  w.uint(2, b.nodeId);
  w.uint(1, b.round);
  w.endMessage(field, mark);
}

function writeValue(w: ProtoWriter, field: number, v: Value): void {
  const mark = w.length;
  if (v.type === "batch") {
    const commands = v.commands;
    for (let i = commands.length - 1; i >= 0; i--) w.bytes(2, commands[i]!);
  } else {
    w.bool(1, true);
  }
  w.endMessage(field, mark);
}

/** Fields in reverse order: the writer prepends. */
function writeBody(w: ProtoWriter, m: Message): void {
  const mark = w.length;
  switch (m.type) {
    case "prepare":
      w.uint(2, m.fromIndex);
      writeBallot(w, 1, m.ballot);
      break;
    case "promise":
      for (let i = m.entries.length - 1; i >= 0; i--) {
        const e = m.entries[i]!;
        const entryMark = w.length;
        if (e.ballot) writeBallot(w, 3, e.ballot);
        writeValue(w, 2, e.value);
        w.uint(1, e.index);
        w.endMessage(4, entryMark);
      }
      w.bool(3, m.recovering);
      w.uint(2, m.fromIndex);
      writeBallot(w, 1, m.ballot);
      break;
    case "nack":
      writeBallot(w, 2, m.promised);
      writeBallot(w, 1, m.ballot);
      break;
    case "disposed":
      w.uint(3, m.snapshotIndex);
      w.uint(2, m.disposeBelow);
      w.uint(1, m.index);
      break;
    case "accept":
      w.uint(5, m.chosenIndex);
      w.uint(4, m.horizon);
      writeValue(w, 3, m.value);
      w.uint(2, m.index);
      writeBallot(w, 1, m.ballot);
      break;
    case "accepted":
      w.uint(2, m.index);
      writeBallot(w, 1, m.ballot);
      break;
    case "commit":
      if (m.readSeq) w.uint(6, m.readSeq);
      w.bool(5, m.heartbeat);
      w.uint(4, m.horizon);
      w.uint(3, m.disposeBelow);
      w.uint(2, m.chosenIndex);
      writeBallot(w, 1, m.ballot);
      break;
    case "learned":
      if (m.readSeq) w.uint(5, m.readSeq);
      w.bool(4, m.recovering);
      writeBallot(w, 3, m.promised);
      w.uint(2, m.learnedIndex);
      w.uint(1, m.incarnation);
      break;
    case "catchup":
      w.uint(2, m.toIndex);
      w.uint(1, m.fromIndex);
      break;
    case "catchup-reply":
      w.uint(3, m.chosenIndex);
      w.uint(2, m.snapshotIndex);
      for (let i = m.entries.length - 1; i >= 0; i--) {
        const e = m.entries[i]!;
        const entryMark = w.length;
        writeValue(w, 2, e.value);
        w.uint(1, e.index);
        w.endMessage(1, entryMark);
      }
      break;
  }
  w.endMessage(BODY_FIELD[m.type], mark);
}

// ---- decoding ---------------------------------------------------------------------

const ZERO_BALLOT: Ballot = { round: 0, nodeId: 0 };

function readBallot(r: ProtoReader): Ballot {
  const end = r.enter();
  let round = 0;
  let node = 0;
  while (r.pos < end) {
    const t = r.tag();
    if (t === 8) round = r.varint();
    else if (t === 16) node = r.varint();
    else r.skip(t);
  }
  return { round, nodeId: node };
}

/** A value on the wire: absent or `noop` is the no-op; else a batch (possibly empty). */
function readValue(r: ProtoReader): Value {
  const end = r.enter();
  let noop = false;
  const commands: Uint8Array[] = [];
  while (r.pos < end) {
    const t = r.tag();
    if (t === 8) noop = r.bool();
    else if (t === 18) commands.push(r.bytes());
    else r.skip(t);
  }
  return noop ? NOOP : { type: "batch", commands };
}

/** The numbered fields of a body, read generically: scalars by number, sub-messages decoded. */
interface BodyFields {
  readonly ints: number[];
  readonly ballots: (Ballot | undefined)[];
  value: Value;
  readonly entries: { index: LogIndex; value: Value; ballot: Ballot | null }[];
}

function readBody(r: ProtoReader, field: number, end: number, from: NodeId, to: NodeId): Message {
  // Every body has at most 6 fields; which of them are ballots, values or
  // repeated entries depends on the body type (see paxlog.proto).
  const f: BodyFields = { ints: [0, 0, 0, 0, 0, 0, 0], ballots: [], value: NOOP, entries: [] };
  const ballotFields = BALLOT_FIELDS[field]!;
  const entryField = field === 4 ? 4 : field === 12 ? 1 : -1;
  while (r.pos < end) {
    const t = r.tag();
    const n = t >>> 3;
    const wire = t & 7;
    if (wire === 0 && n <= 6) f.ints[n] = r.varint();
    else if (wire === 2 && ballotFields.includes(n)) f.ballots[n] = readBallot(r);
    else if (wire === 2 && field === 7 && n === 3) f.value = readValue(r);
    else if (wire === 2 && n === entryField) f.entries.push(readEntry(r));
    else r.skip(t);
  }
  if (r.pos !== end) throw new RangeError("message body overran its length");
  const int = f.ints;
  const ballot = (n: number): Ballot => f.ballots[n] ?? ZERO_BALLOT;
  switch (field) {
    case 3:
      return { type: "prepare", from, to, ballot: ballot(1), fromIndex: int[2]! };
    case 4:
      return {
        type: "promise",
        from,
        to,
        ballot: ballot(1),
        fromIndex: int[2]!,
        recovering: int[3] !== 0,
        entries: f.entries as PromiseEntry[],
      };
    case 5:
      return { type: "nack", from, to, ballot: ballot(1), promised: ballot(2) };
    case 6:
      return {
        type: "disposed",
        from,
        to,
        index: int[1]!,
        disposeBelow: int[2]!,
        snapshotIndex: int[3]!,
      };
    case 7:
      return {
        type: "accept",
        from,
        to,
        ballot: ballot(1),
        index: int[2]!,
        value: f.value,
        horizon: int[4]!,
        chosenIndex: int[5]!,
      };
    case 8:
      return { type: "accepted", from, to, ballot: ballot(1), index: int[2]! };
    case 9:
      return {
        type: "commit",
        from,
        to,
        ballot: ballot(1),
        chosenIndex: int[2]!,
        disposeBelow: int[3]!,
        horizon: int[4]!,
        heartbeat: int[5] !== 0,
        ...(int[6] ? { readSeq: int[6] } : {}),
      };
    case 10:
      return {
        type: "learned",
        from,
        to,
        incarnation: int[1]!,
        learnedIndex: int[2]!,
        promised: ballot(3),
        recovering: int[4] !== 0,
        ...(int[5] ? { readSeq: int[5] } : {}),
      };
    case 11:
      return { type: "catchup", from, to, fromIndex: int[1]!, toIndex: int[2]! };
    default:
      return {
        type: "catchup-reply",
        from,
        to,
        entries: f.entries.map((e) => ({ index: e.index, value: e.value })),
        snapshotIndex: int[2]!,
        chosenIndex: int[3]!,
      };
  }
}

/** Which fields of each body (by body field number) are ballots. */
const BALLOT_FIELDS: Record<number, readonly number[]> = {
  3: [1],
  4: [1],
  5: [1, 2],
  6: [],
  7: [1],
  8: [1],
  9: [1],
  10: [3],
  11: [],
  12: [],
};

/** A PromiseEntry or LogEntry: index 1, value 2, ballot 3 (absent: reported as chosen). */
function readEntry(r: ProtoReader): { index: LogIndex; value: Value; ballot: Ballot | null } {
  const end = r.enter();
  let index = 0;
  let value: Value = NOOP;
  let ballot: Ballot | null = null;
  while (r.pos < end) {
    const t = r.tag();
    if (t === 8) index = r.varint();
    else if (t === 18) value = readValue(r);
    else if (t === 26) ballot = readBallot(r);
    else r.skip(t);
  }
  return { index, value, ballot };
}
