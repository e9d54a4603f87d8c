import * as grpc from "@grpc/grpc-js";
import type { Message } from "../../consensus";
import type { Logger } from "../log";
import { fromWire, type WireMessage } from "./codec";
import { PeerService } from "./proto";

export interface SubmitRequest {
  readonly command: Uint8Array;
  readonly via: number;
  readonly timeoutMs: number;
}

export type SubmitReply =
  | { readonly outcome: "result"; readonly result: Uint8Array; readonly index: number }
  | { readonly outcome: "notLeader"; readonly notLeader: number }
  | { readonly outcome: "timeout"; readonly timeout: string };

export interface SnapshotChunk {
  readonly index: number;
  readonly data: Uint8Array;
}

/** What the replica answers on its gRPC port. */
export interface PeerHandlers {
  onMessages(messages: Message[]): void;
  onSubmit(request: SubmitRequest): Promise<SubmitReply>;
  /** The latest snapshot at or after `minIndex`, as bounded chunks; null if there is none. */
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

/** The replica's gRPC server: Paxos streams in, forwarded commands, snapshot streams out. */
export class PeerServer {
  private readonly server = new grpc.Server(GRPC_OPTIONS);

  constructor(
    private readonly handlers: PeerHandlers,
    private readonly log: Logger,
  ) {
    this.server.addService(PeerService.service, {
      Exchange: (
        call: grpc.ServerReadableStream<{ messages: WireMessage[] }, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => this.exchange(call, callback),
      Submit: (
        call: grpc.ServerUnaryCall<SubmitRequest, SubmitReply>,
        callback: grpc.sendUnaryData<unknown>,
      ) => this.submit(call, callback),
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
    call: grpc.ServerReadableStream<{ messages: WireMessage[] }, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void {
    call.on("data", (batch: { messages: WireMessage[] }) => {
      const messages: Message[] = [];
      for (const wire of batch.messages) {
        const message = fromWire(wire);
        if (message) messages.push(message);
        else
          this.log.warn("dropped a peer message of unknown type", {
            from: wire.from,
            body: wire.body,
          });
      }
      if (messages.length > 0) this.handlers.onMessages(messages);
    });
    call.on("end", () => callback(null, {}));
    call.on("error", () => {
      // The sender went away (crash, restart, shutdown): its link reconnects.
    });
  }

  private submit(
    call: grpc.ServerUnaryCall<SubmitRequest, SubmitReply>,
    callback: grpc.sendUnaryData<unknown>,
  ): void {
    this.handlers.onSubmit(call.request).then(
      (reply) => callback(null, toWireReply(reply)),
      (error: Error) => {
        this.log.error("submit failed", { error: error.message });
        callback({ code: grpc.status.INTERNAL, details: error.message });
      },
    );
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

function toWireReply(reply: SubmitReply): Record<string, unknown> {
  switch (reply.outcome) {
    case "result":
      return { result: reply.result, index: reply.index };
    case "notLeader":
      return { notLeader: reply.notLeader };
    case "timeout":
      return { timeout: reply.timeout };
  }
}
