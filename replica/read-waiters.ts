/** How a read-index request to this replica's core ended. */
export type ReadIndexOutcome =
  /** A quorum confirmed the leader's ballot: answer from any state that applied `index`. */
  | { readonly kind: "ready"; readonly index: number }
  /** This replica does not (or no longer) lead: ask the leader. */
  | { readonly kind: "not-leader" }
  | { readonly kind: "timeout" };

interface Waiter {
  readonly resolve: (outcome: ReadIndexOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Reads waiting for the core's read-index round (consensus/read-index.ts),
 * by the id the core answers with in `readsReady` / `readsFailed`.
 */
export class ReadWaiters {
  private nextId = 0;
  private readonly byId = new Map<number, Waiter>();

  /** A new read id and the promise of its outcome (a timeout after `timeoutMs`). */
  start(timeoutMs: number): { readonly id: number; readonly outcome: Promise<ReadIndexOutcome> } {
    const id = ++this.nextId;
    const outcome = new Promise<ReadIndexOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(id, { kind: "timeout" }), timeoutMs);
      this.byId.set(id, { resolve, timer });
    });
    return { id, outcome };
  }

  ready(id: number, index: number): void {
    this.settle(id, { kind: "ready", index });
  }

  notLeader(id: number): void {
    this.settle(id, { kind: "not-leader" });
  }

  /** Fails every waiting read (shutdown). */
  clear(): void {
    for (const id of [...this.byId.keys()]) this.settle(id, { kind: "not-leader" });
  }

  private settle(id: number, outcome: ReadIndexOutcome): void {
    const waiter = this.byId.get(id);
    if (!waiter) return;
    this.byId.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
  }
}
