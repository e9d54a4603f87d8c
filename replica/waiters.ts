import type { CommandResult } from "../domain";
import type { KvProjection } from "../projections/kv-projection";

/** How a command a client waits for ended on this replica. */
export type Settled =
  | { readonly kind: "applied"; readonly result: CommandResult; readonly view: KvProjection }
  /** This replica will not propose it (not, or no longer, the leader): go to the leader. */
  | { readonly kind: "not-leader" }
  | { readonly kind: "timeout" };

interface Waiter {
  readonly resolve: (settled: Settled) => void;
  /** Date.now() after which it times out. */
  readonly deadline: number;
}

/**
 * How often overdue waiters are timed out: one timer for all of them, not a
 * timer set and cleared for every command (a timeout is seconds long, so
 * this much late does not matter).
 */
const SWEEP_MS = 50;

/**
 * Clients waiting for their command to be applied, by (clientId, requestId).
 * Every replica applies every command, so the replica that proposed it
 * answers its client from its own apply path. Several waiters may share a
 * key (a retried request): all get the same remembered result.
 *
 * Two levels of maps rather than one keyed by a joined string: every applied
 * command is looked up here on every replica, mostly to find nobody waiting,
 * and building and hashing a fresh key string for each was 3% of a leader's
 * CPU in a put run.
 */
export class Waiters {
  private readonly byClient = new Map<string, Map<number, Waiter[]>>();
  private requests = 0;
  private sweeper: NodeJS.Timeout | null = null;

  wait(clientId: string, requestId: number, timeoutMs: number): Promise<Settled> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, deadline: Date.now() + timeoutMs };
      let ofClient = this.byClient.get(clientId);
      if (!ofClient) {
        ofClient = new Map();
        this.byClient.set(clientId, ofClient);
      }
      const list = ofClient.get(requestId);
      if (list) list.push(waiter);
      else {
        ofClient.set(requestId, [waiter]);
        this.requests++;
      }
      this.sweeper ??= setInterval(this.sweep, SWEEP_MS);
    });
  }

  applied(clientId: string, requestId: number, result: CommandResult, view: KvProjection): void {
    this.settleAll(clientId, requestId, { kind: "applied", result, view });
  }

  notLeader(clientId: string, requestId: number): void {
    this.settleAll(clientId, requestId, { kind: "not-leader" });
  }

  /** Requests (clientId, requestId) with someone waiting. */
  get size(): number {
    return this.requests;
  }

  /** Fails every waiter (shutdown). */
  clear(): void {
    const all = [...this.byClient.values()].flatMap((ofClient) => [...ofClient.values()].flat());
    this.byClient.clear();
    this.requests = 0;
    this.stopSweeper();
    for (const waiter of all) waiter.resolve({ kind: "not-leader" });
  }

  private settleAll(clientId: string, requestId: number, settled: Settled): void {
    const ofClient = this.byClient.get(clientId);
    const list = ofClient?.get(requestId);
    if (!ofClient || !list) return;
    this.forget(clientId, ofClient, requestId);
    for (const waiter of list) waiter.resolve(settled);
  }

  private forget(clientId: string, ofClient: Map<number, Waiter[]>, requestId: number): void {
    ofClient.delete(requestId);
    this.requests--;
    if (ofClient.size === 0) this.byClient.delete(clientId);
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    const overdue: Waiter[] = [];
    for (const [clientId, ofClient] of this.byClient) {
      for (const [requestId, list] of ofClient) {
        if (!list.some((w) => w.deadline <= now)) continue;
        const waiting = list.filter((w) => w.deadline > now);
        overdue.push(...list.filter((w) => w.deadline <= now));
        if (waiting.length === 0) this.forget(clientId, ofClient, requestId);
        else ofClient.set(requestId, waiting);
      }
    }
    for (const waiter of overdue) waiter.resolve({ kind: "timeout" });
    if (this.requests === 0) this.stopSweeper();
  };

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
