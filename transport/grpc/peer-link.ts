import * as grpc from "@grpc/grpc-js";
import type { Message, NodeId } from "../../consensus";
import type { Logger } from "../log";
import { toWire } from "./codec";
import {
  GRPC_OPTIONS,
  type SnapshotChunk,
  type SubmitReply,
  type SubmitRequest,
} from "./peer-server";
import { PeerService } from "./proto";

/** Batches written but not yet flushed to a peer before we start dropping (Paxos resends). */
const MAX_UNFLUSHED_BATCHES = 256;
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

const waitForReady = (): grpc.Metadata => new grpc.Metadata({ waitForReady: true });

type PeerClient = grpc.Client & {
  Exchange(callback: grpc.requestCallback<unknown>): grpc.ClientWritableStream<unknown>;
  Submit(
    request: SubmitRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<Record<string, unknown>>,
  ): grpc.ClientUnaryCall;
  FetchSnapshot(
    request: { minIndex: number },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<SnapshotChunk>;
};

/**
 * The link to one peer: a long-lived Paxos stream that reconnects with
 * capped exponential backoff, plus unary and streaming calls. Sending never
 * blocks and never buffers without bound: while the peer is down or slow,
 * batches are dropped and the core's resends cover them.
 */
export class PeerLink {
  private readonly client: PeerClient;
  private stream: grpc.ClientWritableStream<unknown> | null = null;
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
  ) {
    this.client = new PeerService(
      address,
      grpc.credentials.createInsecure(),
      GRPC_OPTIONS,
    ) as unknown as PeerClient;
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
    stream.write({ messages: messages.map(toWire) }, () => {
      this.unflushed = Math.max(0, this.unflushed - 1);
      if (!this.wasUp) {
        this.wasUp = true;
        this.backoffMs = MIN_BACKOFF_MS;
      }
    });
  }

  submit(request: SubmitRequest, timeoutMs: number): Promise<SubmitReply> {
    return new Promise((resolve, reject) => {
      // Fail fast when the peer is not connected: the caller re-reads the
      // leader hint and retries, rather than waiting on a dead leader.
      const options = { deadline: Date.now() + timeoutMs };
      this.client.Submit(request, new grpc.Metadata(), options, (error, reply) => {
        if (error || !reply) {
          reject(error ?? new Error("empty reply"));
          return;
        }
        if (reply.outcome === "result") {
          resolve({
            outcome: "result",
            result: reply.result as Uint8Array,
            index: reply.index as number,
          });
        } else if (reply.outcome === "notLeader") {
          resolve({ outcome: "notLeader", notLeader: reply.notLeader as number });
        } else {
          resolve({ outcome: "timeout", timeout: String(reply.timeout ?? "timeout") });
        }
      });
    });
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
    this.stream?.end();
    this.stream = null;
    this.client.close();
  }
}
