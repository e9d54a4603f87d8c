import {
  type Ballot,
  type Effects,
  type Message,
  type NodeId,
  PaxosNode,
  type PromiseEntry,
} from "../../consensus";
import type { NodeFactory } from "./simulation";

/**
 * Deliberately broken cores, each breaking one rule at the node's boundary
 * (no switch inside production code). The simulator must catch every one.
 */
export const MUTATIONS: Record<
  string,
  { readonly rule: string; readonly createNode: NodeFactory }
> = {
  "no-ballot-fence": {
    rule: "a restarted replica forgets its fence and rejoins as a fresh acceptor",
    createNode: (config, start) => new PaxosNode(config, { ...start, fenceRound: 0 }),
  },
  "recovering-counts-in-phase1": {
    rule: "a leader counts a recovering replica's promise toward its Phase 1 quorum",
    createNode: (config, start) =>
      new (class extends PaxosNode {
        override step(m: Message) {
          return super.step(m.type === "promise" ? { ...m, recovering: false } : m);
        }
      })(config, start),
  },
  "no-recovery-horizon": {
    rule: "a recovering replica leaves recovery at the first new ballot, without learning up to its horizon",
    createNode: (config, start) =>
      new (class extends PaxosNode {
        override step(m: Message) {
          return super.step(m.type === "accept" || m.type === "commit" ? { ...m, horizon: 0 } : m);
        }
      })(config, start),
  },
  "promise-below-snapshot": {
    rule: "a replica that compacted its log promises a Prepare from below its snapshot, reporting nothing for the compacted instances",
    createNode: (config, start) => new PromiseBelowSnapshot(config, start),
  },
  "read-without-confirmation": {
    rule: "a leader answers a read at once, without a quorum confirming it still leads",
    createNode: (config, start) =>
      new (class extends PaxosNode {
        override readIndex(id: number): Effects {
          const effects = super.readIndex(id);
          if (!this.leading) return effects;
          return { ...effects, readsReady: [{ id, index: this.readIndexNow() }] };
        }

        private readIndexNow(): number {
          const { phase } = (
            this as unknown as { leader: { phase: { horizon: number; nextIndex: number } } }
          ).leader;
          return Math.max(this.learner.chosenIndex, phase.horizon, phase.nextIndex - 1);
        }
      })(config, start),
  },
  "read-index-without-horizon": {
    rule: "a read's index is the leader's chosen watermark, ignoring what its Phase 1 re-proposed",
    createNode: (config, start) => new ReadIndexAt(config, start, (node) => node.chosenIndex),
  },
  "read-index-below-proposed": {
    rule: "a read's index ignores the leader's proposals in flight, which a follower may have learned and applied already",
    createNode: (config, start) =>
      new ReadIndexAt(config, start, (node) => Math.max(node.chosenIndex, node.horizon)),
  },
  "learn-on-accept-without-quorum": {
    rule: "a follower learns a value as it accepts it from the ballot's owner, though two votes are not a quorum",
    createNode: (config, start) => {
      const node = new PaxosNode(config, start);
      // The node's quorum is read only by that rule (the leader counts its own).
      (node as unknown as { quorum: number }).quorum = 2;
      return node;
    },
  },
};

/**
 * Answers each read at the index `rule` gave on its arrival, from the chosen
 * watermark and the Phase 1 horizon then (the confirmation round still runs).
 */
class ReadIndexAt extends PaxosNode {
  private readonly arrivedAt = new Map<number, number>();

  constructor(
    config: ConstructorParameters<typeof PaxosNode>[0],
    start: ConstructorParameters<typeof PaxosNode>[1],
    private readonly rule: (node: { chosenIndex: number; horizon: number }) => number,
  ) {
    super(config, start);
  }

  override readIndex(id: number): Effects {
    const phase = (this as unknown as { leader: { phase: { horizon?: number } } }).leader.phase;
    this.arrivedAt.set(
      id,
      this.rule({ chosenIndex: this.learner.chosenIndex, horizon: phase.horizon ?? 0 }),
    );
    return this.rewrite(super.readIndex(id));
  }

  override step(m: Message): Effects {
    return this.rewrite(super.step(m));
  }

  override tick(): Effects {
    return this.rewrite(super.tick());
  }

  private rewrite(effects: Effects): Effects {
    if (effects.readsReady.length === 0) return effects;
    return {
      ...effects,
      readsReady: effects.readsReady.map((r) => ({ id: r.id, index: this.arrivedAt.get(r.id)! })),
    };
  }
}

/**
 * The rule before the fix in `onPrepare`: a Prepare from at or below the
 * replica's snapshot (its compacted log) was promised when the acceptor itself
 * did not refuse it, with entries only for what the log and acceptor still
 * held. A replica that learned those instances by catch-up after a crash
 * (never accepting them) then reports a hole where a value was chosen.
 */
class PromiseBelowSnapshot extends PaxosNode {
  override step(m: Message): Effects {
    const effects = super.step(m);
    if (
      m.type !== "prepare" ||
      m.fromIndex > this.learner.snapshotIndex ||
      m.fromIndex < this.acceptor.disposeBelow
    ) {
      return effects;
    }
    // Refused only because of the snapshot: answer as the old code did.
    const refusal = (x: Message) => x.type === "disposed" && x.to === m.from;
    const outcome = this.acceptor.prepare(m.ballot, m.fromIndex);
    let reply: Message;
    if (outcome === "promised") {
      (
        this as unknown as { leader: { observeBallot(b: Ballot, from: NodeId): void } }
      ).leader.observeBallot(m.ballot, m.from);
      const entries: PromiseEntry[] = [];
      for (const [index, value] of this.learner.learnedFrom(m.fromIndex)) {
        entries.push({ index, value, ballot: null });
      }
      for (const [index, accepted] of this.acceptor.acceptedFrom(m.fromIndex)) {
        if (this.learner.valueAt(index) === undefined) {
          entries.push({ index, value: accepted.value, ballot: accepted.ballot });
        }
      }
      reply = {
        type: "promise",
        from: this.id,
        to: m.from,
        ballot: m.ballot,
        fromIndex: m.fromIndex,
        recovering: this.recovering,
        entries,
      };
    } else {
      reply = {
        type: "nack",
        from: this.id,
        to: m.from,
        ballot: m.ballot,
        promised: this.acceptor.promised,
      };
    }
    const more = this.out.take();
    return merge(
      {
        ...effects,
        messages: effects.messages.filter((x) => !refusal(x)),
        events: effects.events.filter((e) => e.type !== "refused-disposed"),
      },
      { ...more, messages: [reply, ...more.messages] },
    );
  }
}

/** Both inputs' effects as one: lists joined, flags or-ed, the first request kept. */
function merge(a: Effects, b: Effects): Effects {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    if (Array.isArray(value)) out[key] = [...((mine as unknown[]) ?? []), ...value];
    else if (typeof value === "boolean") out[key] = Boolean(mine) || value;
    else out[key] = mine ?? value;
  }
  return out as unknown as Effects;
}
