import type * as grpc from "@grpc/grpc-js";
import {
  type ForwardBatchWire,
  ForwardError,
  type ForwardedWire,
  type ForwardReply,
  type ForwardReplyBatchWire,
  type ForwardReplyWire,
  inChunks,
} from "./forward";

export type ForwardCall = grpc.ClientDuplexStream<ForwardBatchWire, ForwardReplyBatchWire>;

interface Pending {
  readonly resolve: (reply: ForwardReply) => void;
  readonly reject: (error: ForwardError) => void;
  readonly deadline: number;
  readonly bytes: number;
}

/** What the forwards in flight to one peer may hold before more fail fast. */
export interface ForwardLimits {
  readonly commands: number;
  readonly bytes: number;
}

/** How often overdue forwards are failed: one timer for all of them, not one per command. */
const SWEEP_MS = 50;

/**
 * The follower's end of the `Forward` stream to one peer. Commands forwarded
 * in the same turn of the event loop leave as one message; answers are
 * matched by id. The stream is opened on first use and again after it
 * breaks. Every forward ends: answered, failed fast (stream down, too many
 * in flight, leader changed), or failed at its own deadline; a forward that
 * may have reached the leader fails as "outcome unknown" (`unknown`).
 */
export class ForwardStream {
  private call: ForwardCall | null = null;
  private readonly pending = new Map<number, Pending>();
  private outbox: ForwardedWire[] = [];
  private flushScheduled = false;
  private sweeper: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;
  private bytesInFlight = 0;
  /** Messages sent and answer messages received: how well forwards are batched. */
  batchesSent = 0;
  replyBatchesReceived = 0;

  constructor(
    private readonly openCall: () => ForwardCall,
    private readonly via: number,
    private readonly limits: ForwardLimits,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  forward(command: Uint8Array, timeoutMs: number): Promise<ForwardReply> {
    if (this.closed) return Promise.reject(new ForwardError("the link is closed", false));
    const bytes = command.byteLength;
    // One command alone may exceed the byte limit: it is refused only when others are in flight.
    if (
      this.pending.size >= this.limits.commands ||
      (this.pending.size > 0 && this.bytesInFlight + bytes > this.limits.bytes)
    ) {
      return Promise.reject(
        new ForwardError(
          `too many forwarded commands in flight (${this.pending.size}, ${this.bytesInFlight} bytes)`,
          false,
        ),
      );
    }
    if (!this.call) this.open();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs, bytes });
      this.bytesInFlight += bytes;
      this.outbox.push({ id, command, timeoutMs });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
      if (!this.sweeper) this.sweeper = setInterval(this.sweep, SWEEP_MS).unref();
    });
  }

  /** Fails every forward in flight as "outcome unknown" (the leader changed); the stream stays. */
  abort(reason: string): void {
    this.failAll(reason);
  }

  close(): void {
    this.closed = true;
    this.failAll("the link is closed");
    const call = this.call;
    this.call = null;
    call?.end();
  }

  private open(): void {
    const call = this.openCall();
    this.call = call;
    call.on("data", (batch: ForwardReplyBatchWire) => {
      this.replyBatchesReceived++;
      for (const reply of batch.replies) this.settle(reply);
    });
    // Either ends every forward on this stream: none of them can be answered now.
    call.on("error", (error: grpc.ServiceError) =>
      this.broken(call, error.details || error.message),
    );
    call.on("end", () => this.broken(call, "the leader ended the stream"));
  }

  private broken(call: ForwardCall, why: string): void {
    if (this.call !== call) return;
    this.call = null;
    this.failAll(`forward stream lost: ${why}`);
  }

  private settle(reply: ForwardReplyWire): void {
    const pending = this.take(reply.id);
    // Absent: it timed out or was aborted, and its caller has moved on.
    if (!pending) return;
    switch (reply.outcome) {
      case "result":
        pending.resolve({ outcome: "result", result: reply.result, index: reply.index });
        return;
      case "notLeader":
        pending.resolve({ outcome: "notLeader", notLeader: reply.notLeader });
        return;
      case "timeout":
        pending.resolve({ outcome: "timeout", timeout: reply.timeout });
        return;
      case "failed":
        pending.reject(new ForwardError(`the leader refused it: ${reply.failed}`, false));
        return;
      default:
        pending.reject(new ForwardError("unknown answer from the leader", true));
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const commands = this.outbox;
    this.outbox = [];
    // Commands whose stream broke before this turn ended were failed with it.
    const live = commands.filter((c) => this.pending.has(c.id));
    if (live.length === 0 || !this.call) return;
    for (const chunk of inChunks(live, (c) => c.command.byteLength)) {
      this.batchesSent++;
      this.call.write({ via: this.via, commands: chunk });
    }
  };

  private readonly sweep = (): void => {
    const now = Date.now();
    for (const [id, pending] of this.pending) {
      if (pending.deadline > now) continue;
      this.take(id);
      pending.reject(new ForwardError("no answer from the leader in time", true));
    }
    if (this.pending.size === 0) this.stopSweeper();
  };

  private failAll(reason: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.bytesInFlight = 0;
    this.outbox = [];
    this.stopSweeper();
    for (const pending of all) pending.reject(new ForwardError(reason, true));
  }

  private take(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    this.bytesInFlight -= pending.bytes;
    return pending;
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
