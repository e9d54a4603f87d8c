import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "../log";
import {
  type ForwardBatchWire,
  type ForwardReply,
  type ForwardReplyBatchWire,
  type ForwardReplyWire,
  type ForwardRequest,
  inChunks,
} from "./forward";

export type ForwardServerCall = grpc.ServerDuplexStream<ForwardBatchWire, ForwardReplyBatchWire>;

/**
 * The leader's end of one follower's `Forward` stream: every command goes to
 * `handle`, and the answers that settle in the same turn of the event loop
 * go back as one message. When the follower half-closes, the stream ends
 * after the last answer; when it goes away, answers are dropped (the
 * follower has already failed those forwards as "outcome unknown").
 */
export function serveForward(
  call: ForwardServerCall,
  handle: (request: ForwardRequest) => Promise<ForwardReply>,
  log: Logger,
): void {
  let replies: ForwardReplyWire[] = [];
  let flushScheduled = false;
  let outstanding = 0;
  let halfClosed = false;
  let gone = false;

  const flush = () => {
    flushScheduled = false;
    const batch = replies;
    replies = [];
    if (gone) return;
    for (const chunk of inChunks(batch, replyBytes)) call.write({ replies: chunk });
    if (halfClosed && outstanding === 0) call.end();
  };
  const answer = (reply: ForwardReplyWire) => {
    outstanding--;
    if (gone) return;
    replies.push(reply);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  call.on("data", (batch: ForwardBatchWire) => {
    for (const forwarded of batch.commands) {
      const id = forwarded.id;
      outstanding++;
      handle({ command: forwarded.command, via: batch.via, timeoutMs: forwarded.timeoutMs }).then(
        (reply) => answer({ ...reply, id }),
        (error: Error) => {
          log.error("forwarded command failed", { via: batch.via, error: error.message });
          answer({ id, outcome: "failed", failed: error.message });
        },
      );
    }
  });
  call.on("end", () => {
    halfClosed = true;
    if (outstanding === 0 && !flushScheduled && !gone) call.end();
  });
  // The follower went away (crash, restart, shutdown): nobody is left to answer.
  call.on("error", () => {
    gone = true;
  });
  call.on("cancelled", () => {
    gone = true;
  });
}

const replyBytes = (reply: ForwardReplyWire): number =>
  reply.outcome === "result" ? reply.result.byteLength : 64;
