import type { Message, NodeId } from "../../consensus";
import type { Prng } from "./prng";

export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Messages take 1..maxDelay ticks; different delays reorder them. */
  maxDelay: number;
}

interface InFlight {
  readonly deliverAt: number;
  readonly message: Message;
}

/**
 * A simulated network: lossy, duplicating, delaying, reordering, and cut by
 * partitions (a message crossing a partition is lost, whether it was sent
 * before or after the cut). Messages from a crashed replica's earlier life
 * stay in flight, as they would on a real network.
 */
export class SimNetwork {
  private inFlight: InFlight[] = [];
  /** Partition group per node; nodes talk only within their group. */
  private group = new Map<NodeId, number>();
  /** Extra loss on single links (both directions), keyed by `linkKey`; 1 cuts the link. */
  private linkLoss = new Map<number, number>();
  sent = 0;
  delivered = 0;

  constructor(
    private readonly rng: Prng,
    public faults: NetworkFaults,
  ) {}

  connected(a: NodeId, b: NodeId): boolean {
    if ((this.group.get(a) ?? 0) !== (this.group.get(b) ?? 0)) return false;
    return this.linkLoss.size === 0 || (this.linkLoss.get(linkKey(a, b)) ?? 0) < 1;
  }

  /** Makes the link between `a` and `b` lose `loss` of its messages (1: cut), until restored. */
  degrade(a: NodeId, b: NodeId, loss: number): void {
    this.linkLoss.set(linkKey(a, b), loss);
  }

  lossy(a: NodeId, b: NodeId): boolean {
    return this.linkLoss.size > 0 && this.linkLoss.has(linkKey(a, b));
  }

  restore(a: NodeId, b: NodeId): void {
    this.linkLoss.delete(linkKey(a, b));
  }

  restoreAll(): void {
    this.linkLoss = new Map();
  }

  get degraded(): boolean {
    return this.linkLoss.size > 0;
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.group = new Map();
    groups.forEach((members, g) => {
      for (const id of members) this.group.set(id, g);
    });
  }

  heal(): void {
    this.group = new Map();
  }

  get partitioned(): boolean {
    return new Set(this.group.values()).size > 1;
  }

  send(message: Message, now: number): void {
    this.sent++;
    if (!this.connected(message.from, message.to) || this.rng.chance(this.faults.drop)) return;
    if (this.linkLoss.size > 0) {
      const loss = this.linkLoss.get(linkKey(message.from, message.to));
      if (loss !== undefined && this.rng.chance(loss)) return;
    }
    const copies = this.rng.chance(this.faults.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.inFlight.push({ deliverAt: now + this.rng.between(1, this.faults.maxDelay), message });
    }
  }

  /** Messages due by `now`, in a random order. */
  due(now: number): Message[] {
    const due: Message[] = [];
    const later: InFlight[] = [];
    for (const m of this.inFlight) {
      if (m.deliverAt > now) later.push(m);
      else if (this.connected(m.message.from, m.message.to)) due.push(m.message);
    }
    this.inFlight = later;
    this.delivered += due.length;
    return this.rng.shuffle(due);
  }

  get pending(): number {
    return this.inFlight.length;
  }
}

const linkKey = (a: NodeId, b: NodeId): number => (a < b ? a * 1024 + b : b * 1024 + a);
