import { randomInt } from "node:crypto";
import {
  ForwardError,
  type ForwardedWire,
  type ForwardReply,
  type ForwardReplyWire,
} from "./forward";

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
 * The follower's side of forwarding to one peer: the commands waiting to
 * leave with the link's next batch, and those sent and not yet answered,
 * matched by id. Answers come back in the peer's own batches, naming this
 * forwarder's session. Every forward ends: answered, failed fast (no stream,
 * too many in flight, leader changed), or failed at its own deadline; a
 * forward that may have reached the leader fails as "outcome unknown"
 * (`unknown`).
 */
export class Forwarder {
  /** Drawn per process, so a restarted replica never takes its previous life's answers. */
  readonly session = randomInt(1, 2 ** 47);
  private readonly pending = new Map<number, Pending>();
  private outbox: ForwardedWire[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;
  private bytesInFlight = 0;
  /** Batches that carried forwards, and batches of answers received: how well forwards are batched. */
  batchesSent = 0;
  replyBatchesReceived = 0;

  /** `wake` asks for a flush at the end of this turn, when the outbox is taken. */
  constructor(
    private readonly limits: ForwardLimits,
    private readonly wake: () => void,
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
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs, bytes });
      this.bytesInFlight += bytes;
      this.outbox.push({ id, command, timeoutMs });
      if (!this.sweeper) this.sweeper = setInterval(this.sweep, SWEEP_MS).unref();
      this.wake();
    });
  }

  /** The forwards queued since the last call that still await an answer: they leave now. */
  takeOutbox(): ForwardedWire[] {
    if (this.outbox.length === 0) return this.outbox;
    const queued = this.outbox;
    this.outbox = [];
    // A forward can be failed (leader change, deadline) before its turn ends.
    return queued.filter((f) => this.pending.has(f.id));
  }

  /** `forwards` never left (no stream to the peer): they fail as not applied. */
  unsent(forwards: readonly ForwardedWire[], reason: string): void {
    for (const f of forwards) this.take(f.id)?.reject(new ForwardError(reason, false));
  }

  /** Answers from the peer; those for another session (an earlier life of ours) are ignored. */
  settle(session: number, replies: readonly ForwardReplyWire[]): void {
    if (session !== this.session) return;
    this.replyBatchesReceived++;
    for (const reply of replies) this.settleOne(reply);
  }

  /** The stream the forwards went on broke: none of them can be answered now. */
  lost(reason: string): void {
    this.failAll(`forward stream lost: ${reason}`);
  }

  /** Fails every forward in flight as "outcome unknown" (the leader changed). */
  abort(reason: string): void {
    this.failAll(reason);
  }

  close(): void {
    this.closed = true;
    this.failAll("the link is closed");
  }

  private settleOne(reply: ForwardReplyWire): void {
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
