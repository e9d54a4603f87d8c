import type {
  ForwardBatchWire,
  ForwardedWire,
  ForwardReplyBatchWire,
  ForwardReplyWire,
} from "./forward";
import { ProtoReader, ProtoWriter } from "./proto-wire";

/**
 * `ForwardBatch` and `ForwardReplyBatch` (proto/paxlog.proto) by hand:
 * command and result bytes are copied in as they are and come out as views
 * of the received buffer.
 */

export function encodeForwardBatch(batch: ForwardBatchWire): Buffer {
  const commands = batch.commands;
  let capacity = 16;
  for (const c of commands) capacity += c.command.byteLength + 32;
  const w = new ProtoWriter(capacity);
  for (let i = commands.length - 1; i >= 0; i--) {
    const c = commands[i]!;
    const mark = w.length;
    w.uint(3, c.timeoutMs);
    w.bytes(2, c.command);
    w.uint(1, c.id);
    w.endMessage(2, mark);
  }
  w.uint(1, batch.via);
  return w.finish();
}

export function decodeForwardBatch(buf: Uint8Array): ForwardBatchWire {
  const r = new ProtoReader(buf);
  let via = 0;
  const commands: ForwardedWire[] = [];
  while (r.pos < r.end) {
    const t = r.tag();
    if (t === 8) via = r.varint();
    else if (t === 18) commands.push(readForwarded(r));
    else r.skip(t);
  }
  return { via, commands };
}

function readForwarded(r: ProtoReader): ForwardedWire {
  const end = r.enter();
  let id = 0;
  let command: Uint8Array = new Uint8Array(0);
  let timeoutMs = 0;
  while (r.pos < end) {
    const t = r.tag();
    if (t === 8) id = r.varint();
    else if (t === 18) command = r.bytes();
    else if (t === 24) timeoutMs = r.varint();
    else r.skip(t);
  }
  return { id, command, timeoutMs };
}

export function encodeForwardReplyBatch(batch: ForwardReplyBatchWire): Buffer {
  const replies = batch.replies;
  let capacity = 16;
  for (const reply of replies)
    capacity += 48 + (reply.outcome === "result" ? reply.result.byteLength : 64);
  const w = new ProtoWriter(capacity);
  for (let i = replies.length - 1; i >= 0; i--) {
    const reply = replies[i]!;
    const mark = w.length;
    // The oneof member is written even when it holds its default value: its presence is the outcome.
    switch (reply.outcome) {
      case "result":
        w.uint(6, reply.index);
        w.bytes(2, reply.result);
        break;
      case "notLeader":
        w.uintPresent(3, reply.notLeader);
        break;
      case "timeout":
        w.string(4, reply.timeout);
        break;
      case "failed":
        w.string(5, reply.failed);
        break;
    }
    w.uint(1, reply.id);
    w.endMessage(1, mark);
  }
  return w.finish();
}

export function decodeForwardReplyBatch(buf: Uint8Array): ForwardReplyBatchWire {
  const r = new ProtoReader(buf);
  const replies: ForwardReplyWire[] = [];
  while (r.pos < r.end) {
    const t = r.tag();
    if (t === 10) replies.push(readReply(r));
    else r.skip(t);
  }
  return { replies };
}

/** A reply with no outcome this version knows comes out as "failed". */
function readReply(r: ProtoReader): ForwardReplyWire {
  const end = r.enter();
  let id = 0;
  let index = 0;
  // The oneof: the last member on the wire wins.
  let outcome: ForwardReplyWire["outcome"] | null = null;
  let result: Uint8Array = new Uint8Array(0);
  let notLeader = 0;
  let text = "";
  while (r.pos < end) {
    const t = r.tag();
    if (t === 8) id = r.varint();
    else if (t === 18) {
      outcome = "result";
      result = r.bytes();
    } else if (t === 24) {
      outcome = "notLeader";
      notLeader = r.varint();
    } else if (t === 34) {
      outcome = "timeout";
      text = r.string();
    } else if (t === 42) {
      outcome = "failed";
      text = r.string();
    } else if (t === 48) index = r.varint();
    else r.skip(t);
  }
  switch (outcome) {
    case "result":
      return { id, outcome, result, index };
    case "notLeader":
      return { id, outcome, notLeader };
    case "timeout":
      return { id, outcome, timeout: text };
    case "failed":
      return { id, outcome, failed: text };
    default:
      return { id, outcome: "failed", failed: "an answer with no outcome" };
  }
}
