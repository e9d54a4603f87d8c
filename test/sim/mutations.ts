import { type Message, PaxosNode } from "../../consensus";
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
};
