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

/** The waiters of one request (a retried request may have several). */
interface Waiting {
  readonly requestId: number;
  readonly waiters: Waiter[];
}

/** A plain loop: no closure per lookup, and the list is nearly always one long. */
function indexOfRequest(ofClient: readonly Waiting[], requestId: number): number {
  for (let i = 0; i < ofClient.length; i++) if (ofClient[i]!.requestId === requestId) return i;
  return -1;
}

/**
 * Clients waiting for their command to be applied, by (clientId, requestId).
 * Every replica applies every command, so the replica that proposed it
 * answers its client from its own apply path. Several waiters may share a
 * key (a retried request): all get the same remembered result.
 *
 * Every applied command is looked up here on every replica, mostly to find
 * nobody waiting, so a lookup builds no key and a request adds and removes
 * no map entry: per client a short list (a client nearly always waits on
 * one request at a time) that stays while the client is busy and is
 * dropped by the sweep once empty. A map that gains and loses a key for
 * every request reallocates its table over and over: with one keyed by
 * joined "client/request" strings, each scavenge of a replica in a
 * 64-client put run promoted 1.2-1.4 MB, and puts ran 15-30% slower.
 */
export class Waiters {
  private readonly byClient = new Map<string, Waiting[]>();
  private requests = 0;
  private sweeper: NodeJS.Timeout | null = null;

  wait(clientId: string, requestId: number, timeoutMs: number): Promise<Settled> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, deadline: Date.now() + timeoutMs };
      let ofClient = this.byClient.get(clientId);
      if (!ofClient) {
        ofClient = [];
        this.byClient.set(clientId, ofClient);
      }
      const at = indexOfRequest(ofClient, requestId);
      if (at >= 0) ofClient[at]!.waiters.push(waiter);
      else {
        ofClient.push({ requestId, waiters: [waiter] });
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
    const all = [...this.byClient.values()].flat().flatMap((w) => w.waiters);
    this.byClient.clear();
    this.requests = 0;
    this.stopSweeper();
    for (const waiter of all) waiter.resolve({ kind: "not-leader" });
  }

  private settleAll(clientId: string, requestId: number, settled: Settled): void {
    const ofClient = this.byClient.get(clientId);
    if (!ofClient) return;
    const at = indexOfRequest(ofClient, requestId);
    if (at < 0) return;
    const { waiters } = ofClient[at]!;
    // Order within a client's list does not matter: the last one fills the gap.
    ofClient[at] = ofClient[ofClient.length - 1]!;
    ofClient.pop();
    this.requests--;
    for (const waiter of waiters) waiter.resolve(settled);
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    const overdue: Waiter[] = [];
    for (const [clientId, ofClient] of this.byClient) {
      let kept = 0;
      for (const waiting of ofClient) {
        const waiters = waiting.waiters.filter((w) => w.deadline > now);
        if (waiters.length < waiting.waiters.length)
          overdue.push(...waiting.waiters.filter((w) => w.deadline <= now));
        if (waiters.length > 0) ofClient[kept++] = { requestId: waiting.requestId, waiters };
        else this.requests--;
      }
      ofClient.length = kept;
      if (kept === 0) this.byClient.delete(clientId);
    }
    for (const waiter of overdue) waiter.resolve({ kind: "timeout" });
    if (this.requests === 0) this.stopSweeper();
  };

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
