import * as grpc from "@grpc/grpc-js";
import type { Message } from "../../consensus";
import type { Logger } from "../log";
import type { ForwardReply, ForwardRequest } from "./forward";
import type { DecodedPaxosBatch } from "./paxos-codec";
import { PEER_SERVICE } from "./proto";

export interface SnapshotChunk {
  readonly index: number;
  readonly data: Uint8Array;
}

/** What the replica answers on its gRPC port. */
export interface PeerHandlers {
  onMessages(messages: Message[]): void;
  /** A command a follower forwarded: settles once it is applied, refused or timed out here. */
  onForward(request: ForwardRequest): Promise<ForwardReply>;
  /** The latest snapshot at or after `minIndex`, as bounded chunks; null if there is none. */
  onFetchSnapshot(minIndex: number): AsyncIterable<SnapshotChunk> | null;
  /**
   * Called at the end of a turn, just before the turn's batches leave: what
   * it sends joins them (the replica proposes the turn's commands here).
   */
  beforeFlush?(): void;
}

/** What the server hands on: every batch as it arrives, and snapshot requests. */
interface ServerHandlers {
  onBatch(batch: DecodedPaxosBatch): void;
  onFetchSnapshot(minIndex: number): AsyncIterable<SnapshotChunk> | null;
}

export const GRPC_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  // Peers come back within seconds; grpc's default backoff grows to two minutes.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

/** The replica's gRPC server: peers' batches in, snapshot streams out. */
export class PeerServer {
  private readonly server = new grpc.Server(GRPC_OPTIONS);

  constructor(
    private readonly handlers: ServerHandlers,
    private readonly log: Logger,
  ) {
    this.server.addService(PEER_SERVICE, {
      Exchange: (
        call: grpc.ServerReadableStream<DecodedPaxosBatch, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => this.exchange(call, callback),
      FetchSnapshot: (call: grpc.ServerWritableStream<{ minIndex: number }, unknown>) =>
        this.fetchSnapshot(call),
    });
  }

  /** Binds `address` (host:port; port 0 picks one) and returns the port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.tryShutdown(() => resolve());
      // In-flight streams would hold a graceful shutdown open: cut them after a moment.
      setTimeout(() => this.server.forceShutdown(), 500).unref();
    });
  }

  private exchange(
    call: grpc.ServerReadableStream<DecodedPaxosBatch, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void {
    call.on("data", (batch: DecodedPaxosBatch) => {
      for (const unknown of batch.dropped)
        this.log.warn("dropped a peer message of unknown type", {
          from: unknown.from,
          bodyField: unknown.field,
        });
      this.handlers.onBatch(batch);
    });
    call.on("end", () => callback(null, {}));
    call.on("error", () => {
      // The sender went away (crash, restart, shutdown): its link reconnects.
    });
  }

  private async fetchSnapshot(
    call: grpc.ServerWritableStream<{ minIndex: number }, unknown>,
  ): Promise<void> {
    try {
      const chunks = this.handlers.onFetchSnapshot(call.request.minIndex);
      if (!chunks) {
        call.emit("error", {
          code: grpc.status.NOT_FOUND,
          details: "no snapshot at or after that index",
        });
        return;
      }
      for await (const chunk of chunks) {
        if (call.cancelled) return;
        // Respect the stream's backpressure: one slow reader holds only its own chunks.
        if (!call.write(chunk)) await new Promise((resolve) => call.once("drain", resolve));
      }
      call.end();
    } catch (error) {
      this.log.error("snapshot stream failed", { error: (error as Error).message });
      call.emit("error", { code: grpc.status.INTERNAL, details: (error as Error).message });
    }
  }
}
