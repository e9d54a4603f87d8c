/**
 * PLANTED BUG, for tests only (issue 8): a replica that restarts after a
 * crash reads no ballot fence from etcd (round 0), so it starts as a fresh
 * acceptor instead of an amnesiac one: unfenced (it may promise rounds it
 * promised in its earlier life) and not recovering (its empty Phase 1 promise
 * counts toward a quorum). The same fault as the simulator's `no-ballot-fence`
 * mutation, on real processes. Loaded with
 * `node --require dist/test/mutations/no-recovery-fence.js`
 * (`paxlog check --replica-node-args ...`); the product code has no switch for it.
 */
import { Coordinator } from "../../transport/etcd";

// The replica reads the round only on a restart (incarnation > 1), for its fence.
Coordinator.prototype.readRound = () => Promise.resolve(0);

console.error(
  "MUTATION ACTIVE: no-recovery-fence (a restarted replica is unfenced and counts in Phase 1; NOT the product)",
);
