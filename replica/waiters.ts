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
  readonly timer: NodeJS.Timeout;
}

const keyOf = (clientId: string, requestId: number): string => `${clientId}\u0000${requestId}`;

/**
 * Clients waiting for their command to be applied, by (clientId, requestId).
 * Every replica applies every command, so the replica that proposed it
 * answers its client from its own apply path. Several waiters may share a
 * key (a retried request): all get the same remembered result.
 */
export class Waiters {
  private readonly byKey = new Map<string, Waiter[]>();

  wait(clientId: string, requestId: number, timeoutMs: number): Promise<Settled> {
    const key = keyOf(clientId, requestId);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => this.settle(key, waiter, { kind: "timeout" }), timeoutMs),
      };
      const list = this.byKey.get(key);
      if (list) list.push(waiter);
      else this.byKey.set(key, [waiter]);
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
    for (const [key, list] of this.byKey) {
      for (const waiter of [...list]) this.settle(key, waiter, { kind: "not-leader" });
    }
  }

  private settleAll(key: string, settled: Settled): void {
    const list = this.byKey.get(key);
    if (!list) return;
    this.byKey.delete(key);
    for (const waiter of list) {
      clearTimeout(waiter.timer);
      waiter.resolve(settled);
    }
  }

  private settle(key: string, waiter: Waiter, settled: Settled): void {
    const list = this.byKey.get(key);
    if (!list) return;
    const at = list.indexOf(waiter);
    if (at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.byKey.delete(key);
    clearTimeout(waiter.timer);
    waiter.resolve(settled);
  }
}
