import type { ForwardedWire, ForwardReplyWire } from "./forward";
import type { ProtoReader, ProtoWriter } from "./proto-wire";

/**
 * `Forwarded` and `ForwardReply` (proto/paxlog.proto), the items of a
 * PaxosBatch's `forwards` and `replies`, by hand: command and result bytes
 * are copied in as they are and come out as views of the received buffer.
 * Writers go backwards (see ProtoWriter): fields in reverse order.
 */

/** An upper bound of a forwarded command's encoded size. */
export const forwardedSize = (f: ForwardedWire): number => f.command.byteLength + 32;

/** About an answer's encoded size (a longer error text only makes the writer grow). */
export const replySize = (reply: ForwardReplyWire): number =>
  48 + (reply.outcome === "result" ? reply.result.byteLength : 64);

export function writeForwarded(w: ProtoWriter, field: number, f: ForwardedWire): void {
  const mark = w.length;
  w.uint(3, f.timeoutMs);
  w.bytes(2, f.command);
  w.uint(1, f.id);
  w.endMessage(field, mark);
}

export function readForwarded(r: ProtoReader): ForwardedWire {
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

export function writeReply(w: ProtoWriter, field: number, reply: ForwardReplyWire): void {
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
  w.endMessage(field, mark);
}

/** A reply with no outcome this version knows comes out as "failed". */
export function readReply(r: ProtoReader): ForwardReplyWire {
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
