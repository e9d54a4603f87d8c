import * as grpc from "@grpc/grpc-js";
import type { Message, NodeId } from "../../consensus";
import type { Logger } from "../log";
import { type ForwardReply, type ForwardReplyWire, inChunks } from "./forward";
import { Forwarder, type ForwardLimits } from "./forward-client";
import { forwardedSize, replySize } from "./forward-codec";
import type { PeerBatch } from "./paxos-codec";
import { GRPC_OPTIONS, type SnapshotChunk } from "./peer-server";
import { PeerService } from "./proto";

/** Batches written but not yet flushed to a peer before we start dropping (Paxos resends). */
const MAX_UNFLUSHED_BATCHES = 256;
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/** Bounds on one snapshot transfer (see PeerLink.fetchSnapshot). */
export interface SnapshotLimits {
  readonly totalMs: number;
  readonly idleMs: number;
}

const waitForReady = (): grpc.Metadata => new grpc.Metadata({ waitForReady: true });

type PeerClient = grpc.Client & {
  Exchange(callback: grpc.requestCallback<unknown>): grpc.ClientWritableStream<PeerBatch>;
  FetchSnapshot(
    request: { minIndex: number },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<SnapshotChunk>;
};

/**
 * The link to one peer: a long-lived stream that reconnects with capped
 * exponential backoff and carries, once per turn, everything this replica
 * has for the peer: Paxos messages, client commands forwarded to it, and
 * answers to the commands it forwarded to us. Plus snapshot fetches.
 * Sending never blocks and never buffers without bound: while the peer is
 * down or slow, Paxos messages are dropped and the core's resends cover
 * them; forwards, bounded by their own limits, fail fast instead.
 */
export class PeerLink {
  private readonly client: PeerClient;
  private readonly forwarder: Forwarder;
  private stream: grpc.ClientWritableStream<PeerBatch> | null = null;
  private unflushed = 0;
  private backoffMs = MIN_BACKOFF_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private wasUp = false;
  private messages: Message[] = [];
  private replies: ForwardReplyWire[] = [];
  /** The peer's forwarding session, from the last forwards it sent us: our answers name it. */
  private peerSession = 0;
  dropped = 0;
  sent = 0;
  batchesSent = 0;
  repliesDropped = 0;

  /** `wake` asks the transport for a flush at the end of this turn. */
  constructor(
    readonly peer: NodeId,
    readonly address: string,
    private readonly log: Logger,
    private readonly self: NodeId,
    forwardLimits: ForwardLimits,
    wake: () => void,
  ) {
    this.client = new PeerService(
      address,
      grpc.credentials.createInsecure(),
      GRPC_OPTIONS,
    ) as unknown as PeerClient;
    this.forwarder = new Forwarder(forwardLimits, wake);
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const stream = this.client.Exchange((error) => {
      if (this.stream === stream) this.stream = null;
      if (this.closed) return;
      if (this.wasUp) {
        this.log.warn("peer stream lost", { peer: this.peer, error: error?.details ?? "ended" });
        this.wasUp = false;
      }
      // What we forwarded on it may or may not have reached the peer.
      this.forwarder.lost(error?.details || "the stream ended");
      this.scheduleReopen();
    });
    // Errors also arrive here (e.g. CANCELLED when we close): the callback above handles them.
    stream.on("error", () => {});
    this.stream = stream;
    this.unflushed = 0;
  }

  private scheduleReopen(): void {
    if (this.reconnectTimer || this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  /** Queues Paxos messages for the next flush. */
  queue(message: Message): void {
    this.messages.push(message);
  }

  /** Forwards one client command to this peer (the leader): it leaves with the next flush. */
  forward(command: Uint8Array, timeoutMs: number): Promise<ForwardReply> {
    return this.forwarder.forward(command, timeoutMs);
  }

  /** The peer forwarded us commands under `session`: answers will name it. */
  forwardsFrom(session: number): void {
    this.peerSession = session;
  }

  /**
   * Queues an answer to a command the peer forwarded under `session`. An
   * answer for an earlier session is dropped: the process that asked has
   * restarted, and nobody waits for it.
   */
  reply(session: number, reply: ForwardReplyWire): void {
    if (session !== this.peerSession) {
      this.repliesDropped++;
      return;
    }
    this.replies.push(reply);
  }

  /** Answers to the commands this peer forwarded us. */
  settle(session: number, replies: readonly ForwardReplyWire[]): void {
    this.forwarder.settle(session, replies);
  }

  /**
   * Writes what was queued this turn as one batch (more when forwards or
   * answers are large: about 4 MiB of them per batch).
   */
  flush(): void {
    const forwards = this.forwarder.takeOutbox();
    if (this.messages.length === 0 && forwards.length === 0 && this.replies.length === 0) return;
    const messages = this.messages;
    const replies = this.replies;
    this.messages = [];
    this.replies = [];
    const stream = this.stream;
    if (!stream) {
      this.dropped += messages.length;
      this.repliesDropped += replies.length;
      this.forwarder.unsent(forwards, `no stream to replica ${this.peer}`);
      return;
    }
    // Paxos alone may be dropped (it resends); forwards and answers are bounded elsewhere.
    if (forwards.length === 0 && replies.length === 0 && this.unflushed >= MAX_UNFLUSHED_BATCHES) {
      this.dropped += messages.length;
      return;
    }
    const forwardChunks = inChunks(forwards, forwardedSize);
    const replyChunks = inChunks(replies, replySize);
    const count = Math.max(1, forwardChunks.length, replyChunks.length);
    for (let i = 0; i < count; i++) {
      const batch: PeerBatch = {
        from: this.self,
        messages: i === 0 ? messages : [],
        forwards: forwardChunks[i] ?? [],
        forwardSession: this.forwarder.session,
        replies: replyChunks[i] ?? [],
        replySession: this.peerSession,
      };
      if (batch.forwards.length > 0) this.forwarder.batchesSent++;
      this.write(stream, batch);
    }
    this.sent += messages.length;
  }

  private write(stream: grpc.ClientWritableStream<PeerBatch>, batch: PeerBatch): void {
    this.unflushed++;
    this.batchesSent++;
    // Encoded by encodePaxosBatch (proto.ts) when gRPC takes it.
    stream.write(batch, () => {
      this.unflushed = Math.max(0, this.unflushed - 1);
      if (!this.wasUp) {
        this.wasUp = true;
        this.backoffMs = MIN_BACKOFF_MS;
      }
    });
  }

  /** Fails every forward in flight to this peer as "outcome unknown". */
  abortForwards(reason: string): void {
    this.forwarder.abort(reason);
  }

  get forwardStats(): { inFlight: number; batchesSent: number; replyBatchesReceived: number } {
    const f = this.forwarder;
    return {
      inFlight: f.inFlight,
      batchesSent: f.batchesSent,
      replyBatchesReceived: f.replyBatchesReceived,
    };
  }

  /**
   * The donor's snapshot. The whole transfer must finish within `totalMs`,
   * and each chunk must arrive within `idleMs` of being asked for: a donor
   * that is paused or unreachable fails the fetch in seconds, so the replica
   * can ask another, instead of holding its one transfer for `totalMs`.
   */
  async *fetchSnapshot(minIndex: number, limits: SnapshotLimits): AsyncGenerator<SnapshotChunk> {
    const call = this.client.FetchSnapshot({ minIndex }, waitForReady(), {
      deadline: Date.now() + limits.totalMs,
    });
    const chunks = call[Symbol.asyncIterator]();
    let idle = false;
    try {
      for (;;) {
        // Only the wait for the donor counts, not the time the reader spends on a chunk.
        const timer = setTimeout(() => {
          idle = true;
          call.cancel();
        }, limits.idleMs);
        let next: IteratorResult<SnapshotChunk>;
        try {
          next = await chunks.next();
        } catch (error) {
          if (!idle) throw error;
          throw new Error(`replica ${this.peer} sent no snapshot chunk for ${limits.idleMs} ms`);
        } finally {
          clearTimeout(timer);
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // A reader that stops early (or failed decoding) ends the donor's stream too.
      call.cancel();
    }
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.forwarder.close();
    this.stream?.end();
    this.stream = null;
    this.client.close();
  }
}
