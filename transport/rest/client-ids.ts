import { randomBytes } from "node:crypto";

/**
 * Request identities for clients that send none. Exactly-once needs request
 * ids that increase per client and one request in flight per client, so each
 * concurrent request borrows a *lane* (a client id with its own counter) and
 * returns it when answered. Lanes are reused: the exactly-once table grows
 * with the peak concurrency, not with the number of requests.
 */
export class ClientIdLanes {
  private readonly free: { clientId: string; next: number }[] = [];
  private created = 0;
  private readonly prefix: string;

  constructor(nodeId: number) {
    this.prefix = `rest-${nodeId}-${randomBytes(4).toString("hex")}`;
  }

  take(): { clientId: string; requestId: number; release: () => void } {
    const lane = this.free.pop() ?? { clientId: `${this.prefix}-${++this.created}`, next: 1 };
    const requestId = lane.next++;
    return { clientId: lane.clientId, requestId, release: () => this.free.push(lane) };
  }
}
