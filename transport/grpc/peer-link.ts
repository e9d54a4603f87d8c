import * as grpc from "@grpc/grpc-js";
import type { Message, NodeId } from "../../consensus";
import type { Logger } from "../log";
import type { ForwardReply } from "./forward";
import { type ForwardCall, type ForwardLimits, ForwardStream } from "./forward-client";
import { GRPC_OPTIONS, type SnapshotChunk } from "./peer-server";
import { PeerService } from "./proto";

/** Batches written but not yet flushed to a peer before we start dropping (Paxos resends). */
const MAX_UNFLUSHED_BATCHES = 256;
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

const waitForReady = (): grpc.Metadata => new grpc.Metadata({ waitForReady: true });

type PeerClient = grpc.Client & {
  Exchange(callback: grpc.requestCallback<unknown>): grpc.ClientWritableStream<readonly Message[]>;
  // No waitForReady: a forward to a peer that is down fails fast.
  Forward(): ForwardCall;
  FetchSnapshot(
    request: { minIndex: number },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<SnapshotChunk>;
};

/**
 * The link to one peer: a long-lived Paxos stream that reconnects with
 * capped exponential backoff, the stream of forwarded client commands, and
 * snapshot fetches. Sending never
 * blocks and never buffers without bound: while the peer is down or slow,
 * batches are dropped and the core's resends cover them.
 */
export class PeerLink {
  private readonly client: PeerClient;
  private readonly forwards: ForwardStream;
  private stream: grpc.ClientWritableStream<readonly Message[]> | null = null;
  private unflushed = 0;
  private backoffMs = MIN_BACKOFF_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private wasUp = false;
  dropped = 0;
  sent = 0;

  constructor(
    readonly peer: NodeId,
    readonly address: string,
    private readonly log: Logger,
    self: NodeId,
    forwardLimits: ForwardLimits,
  ) {
    this.client = new PeerService(
      address,
      grpc.credentials.createInsecure(),
      GRPC_OPTIONS,
    ) as unknown as PeerClient;
    this.forwards = new ForwardStream(() => this.client.Forward(), self, forwardLimits);
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

  send(messages: readonly Message[]): void {
    const stream = this.stream;
    if (!stream || this.unflushed >= MAX_UNFLUSHED_BATCHES) {
      this.dropped += messages.length;
      return;
    }
    this.unflushed++;
    this.sent += messages.length;
    // Encoded by encodePaxosBatch (proto.ts) when gRPC takes it.
    stream.write(messages, () => {
      this.unflushed = Math.max(0, this.unflushed - 1);
      if (!this.wasUp) {
        this.wasUp = true;
        this.backoffMs = MIN_BACKOFF_MS;
      }
    });
  }

  /** Forwards one client command to this peer (the leader); see ForwardStream. */
  forward(command: Uint8Array, timeoutMs: number): Promise<ForwardReply> {
    return this.forwards.forward(command, timeoutMs);
  }

  /** Fails every forward in flight to this peer as "outcome unknown". */
  abortForwards(reason: string): void {
    this.forwards.abort(reason);
  }

  get forwardStats(): { inFlight: number; batchesSent: number; replyBatchesReceived: number } {
    const f = this.forwards;
    return {
      inFlight: f.inFlight,
      batchesSent: f.batchesSent,
      replyBatchesReceived: f.replyBatchesReceived,
    };
  }

  /** The donor's snapshot; the whole transfer must finish within `timeoutMs`. */
  fetchSnapshot(minIndex: number, timeoutMs: number): AsyncIterable<SnapshotChunk> {
    return this.client.FetchSnapshot({ minIndex }, waitForReady(), {
      deadline: Date.now() + timeoutMs,
    });
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.forwards.close();
    this.stream?.end();
    this.stream = null;
    this.client.close();
  }
}
