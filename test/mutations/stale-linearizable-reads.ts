/**
 * PLANTED BUG, for tests only (issue 8): a follower answers linearizable reads
 * from its local projection, skipping the read marker's round through the
 * log. A follower cut off from the leader then serves stale values as
 * linearizable. Loaded into replica processes with
 * `node --require dist/test/mutations/stale-linearizable-reads.js`
 * (`paxlog check --replica-node-args ...`); the product code has no switch for it.
 */
import { Replica } from "../../replica/replica";
import type { Consistency, ReadOutcome } from "../../transport/rest/service";

type ReadView = (
  consistency: Consistency,
  minIndex: number,
  timeoutMs: number,
) => Promise<ReadOutcome>;

const original: ReadView = Replica.prototype.readView;
type Internals = { leadsOrMayLead(): boolean };
// Fail at startup, not at the first read, if the product's shape moved.
if (typeof (Replica.prototype as unknown as Internals).leadsOrMayLead !== "function") {
  throw new Error("stale-linearizable-reads: Replica.prototype.leadsOrMayLead is gone");
}

Replica.prototype.readView = function (this: Replica, consistency, minIndex, timeoutMs) {
  // `leadsOrMayLead` is private to the class; the mutation reaches past it on purpose.
  const leads = (this as unknown as Internals).leadsOrMayLead();
  if (consistency === "linearizable" && !leads) {
    return original.call(this, "sequential", minIndex, timeoutMs);
  }
  return original.call(this, consistency, minIndex, timeoutMs);
} satisfies ReadView;

console.error(
  "MUTATION ACTIVE: stale-linearizable-reads (followers answer linearizable reads locally; NOT the product)",
);
