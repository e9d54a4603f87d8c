/**
 * Forwarding client commands from a follower to the leader (the `forwards`
 * and `replies` of a PaxosBatch, proto/paxlog.proto): the shapes both ends
 * share.
 */

/** One client command a follower hands to the leader. */
export interface ForwardRequest {
  /** One encoded domain command (domain/codec.ts), carried as is. */
  readonly command: Uint8Array;
  /** The replica that forwarded it, for logs. */
  readonly via: number;
  /** How long the forwarder waits: the leader answers "timeout" a little before. */
  readonly timeoutMs: number;
}

/** How the leader answered a forwarded command. */
export type ForwardReply =
  | { readonly outcome: "result"; readonly result: Uint8Array; readonly index: number }
  | { readonly outcome: "notLeader"; readonly notLeader: number }
  | { readonly outcome: "timeout"; readonly timeout: string };

/** A forwarded command on the wire: the request plus its correlation id. */
export interface ForwardedWire {
  readonly id: number;
  readonly command: Uint8Array;
  readonly timeoutMs: number;
}

/** One answer on the wire; `failed` says the leader could not take the command at all. */
export type ForwardReplyWire =
  | (ForwardReply & { readonly id: number })
  | { readonly id: number; readonly outcome: "failed"; readonly failed: string };

/**
 * The answer with its correlation id, written out per outcome: V8 clones
 * `{ ...reply, id }` slowly (about 0.5 µs in a microbenchmark here), once
 * per forwarded command on the leader.
 */
export function replyWire(id: number, reply: ForwardReply): ForwardReplyWire {
  switch (reply.outcome) {
    case "result":
      return { id, outcome: "result", result: reply.result, index: reply.index };
    case "notLeader":
      return { id, outcome: "notLeader", notLeader: reply.notLeader };
    case "timeout":
      return { id, outcome: "timeout", timeout: reply.timeout };
  }
}

/**
 * A forward that got no answer. `unknown` says whether the command may have
 * reached the leader (and so may still be applied): then the caller must not
 * report a failure, only "outcome unknown" or a retry under the same request id.
 */
export class ForwardError extends Error {
  constructor(
    message: string,
    readonly unknown: boolean,
  ) {
    super(message);
    this.name = "ForwardError";
  }
}

/**
 * A turn's forwards (or answers) split into messages of about `maxBytes`
 * each, so that a turn full of large commands stays far below gRPC's
 * message size limit.
 */
export function inChunks<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxBytes = 4 * 1024 * 1024,
): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
