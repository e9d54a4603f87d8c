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

const keyOf = (clientId: string, requestId: number): string => `${clientId}\u0000${requestId}`;

/**
 * Clients waiting for their command to be applied, by (clientId, requestId).
 * Every replica applies every command, so the replica that proposed it
 * answers its client from its own apply path. Several waiters may share a
 * key (a retried request): all get the same remembered result.
 */
export class Waiters {
  private readonly byKey = new Map<string, Waiter[]>();
  private sweeper: NodeJS.Timeout | null = null;

  wait(clientId: string, requestId: number, timeoutMs: number): Promise<Settled> {
    const key = keyOf(clientId, requestId);
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, deadline: Date.now() + timeoutMs };
      const list = this.byKey.get(key);
      if (list) list.push(waiter);
      else this.byKey.set(key, [waiter]);
      this.sweeper ??= setInterval(this.sweep, SWEEP_MS);
    });
  }

  applied(clientId: string, requestId: number, result: CommandResult, view: KvProjection): void {
    this.settleAll(keyOf(clientId, requestId), { kind: "applied", result, view });
  }

  notLeader(clientId: string, requestId: number): void {
    this.settleAll(keyOf(clientId, requestId), { kind: "not-leader" });
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Fails every waiter (shutdown). */
  clear(): void {
    const all = [...this.byKey.values()].flat();
    this.byKey.clear();
    this.stopSweeper();
    for (const waiter of all) waiter.resolve({ kind: "not-leader" });
  }

  private settleAll(key: string, settled: Settled): void {
    const list = this.byKey.get(key);
    if (!list) return;
    this.byKey.delete(key);
    for (const waiter of list) waiter.resolve(settled);
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    for (const [key, list] of this.byKey) {
      const overdue = list.filter((w) => w.deadline <= now);
      if (overdue.length === 0) continue;
      if (overdue.length === list.length) this.byKey.delete(key);
      else
        this.byKey.set(
          key,
          list.filter((w) => w.deadline > now),
        );
      for (const waiter of overdue) waiter.resolve({ kind: "timeout" });
    }
    if (this.byKey.size === 0) this.stopSweeper();
  };

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
