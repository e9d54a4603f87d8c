/**
 * DESIGN §4 as the core implements it: an amnesiac replica restarts with a
 * fence promise at the etcd round R it read, answers Prepare as *recovering*
 * (not counted toward a Phase 1 quorum), and becomes a full acceptor once it
 * has learned up to the horizon of a ballot with round > R.
 */
import test from "ava";
import type { Message } from "../../consensus/messages";
import { fenceBallot, NO_BALLOT } from "../../consensus/types";
import { as, ballot, batch, Cluster, msg, show, where } from "../support/consensus-harness";

test("a restarted node refuses Prepare and Accept with round <= its fence round, with a Nack carrying the fence ballot", (t) => {
  const c = new Cluster({
    n: 3,
    start: (id) => ({ fenceRound: id === 2 ? 5 : 0, incarnation: 1 }),
  });
  t.true(c.node(2).recovering);
  t.deepEqual(c.node(2).acceptor.promised, fenceBallot(5));
  for (const b of [ballot(5, 3), ballot(5, 1), ballot(1, 3)]) {
    const p = as(c.step(msg.prepare(Number(b.nodeId), 2, b, 1)).messages[0], "nack");
    t.deepEqual(p.promised, fenceBallot(5));
    const a = as(c.step(msg.accept(Number(b.nodeId), 2, b, 1, batch("x"))).messages[0], "nack");
    t.deepEqual(a.promised, fenceBallot(5));
  }
  t.is(c.node(2).acceptor.size, 0);
});

test("a restarted node promises and accepts round > its fence round, and marks its Promise recovering", (t) => {
  const c = new Cluster({
    n: 3,
    start: (id) => ({ fenceRound: id === 2 ? 5 : 0, incarnation: 1 }),
  });
  const promise = as(c.step(msg.prepare(1, 2, ballot(6, 1), 1)).messages[0], "promise");
  t.true(promise.recovering);
  t.deepEqual(promise.entries, []);
  // It may vote in Phase 2 while recovering.
  const accept = msg.accept(1, 2, ballot(6, 1), 1, batch("x"), { horizon: 3 });
  t.is(c.step(accept).messages[0]?.type, "accepted");
  t.true(c.node(2).recovering, "still recovering: it has not learned up to the horizon 3");
});

test("a leader does not count a recovering promise toward its Phase 1 quorum", (t) => {
  const c = new Cluster({ n: 3 });
  c.start(2, { fenceRound: 5, incarnation: 2 });
  c.campaign(1, 6);
  c.deliver(where({ type: "prepare", to: 2 }));
  c.deliver(where({ type: "promise", from: 2 }));
  t.is(c.node(1).status().role, "preparing", "leader + recovering node is not a quorum");
  c.deliver(where({ type: "prepare", to: 3 }));
  c.deliver(where({ type: "promise", from: 3 }));
  t.is(c.node(1).status().role, "leader");
});

test("a recovering leader does not count its own promise either", (t) => {
  const c = new Cluster({ n: 3 });
  c.start(1, { fenceRound: 5, incarnation: 2 });
  c.campaign(1, 6);
  c.deliver(where({ type: "prepare", to: 2 }));
  c.deliver(where({ type: "promise", from: 2 }));
  t.is(c.node(1).status().role, "preparing");
  c.deliverAll();
  t.is(c.node(1).status().role, "leader");
});

/** 3 nodes, node 1 leads round 1 and decides a, b, c everywhere; then node 2 restarts (fence 1). */
function restarted(config = {}) {
  const c = new Cluster({ n: 3, config: { heartbeatTicks: 2, roundRetryTicks: 4, ...config } });
  c.elect(1, 1);
  for (const v of ["a", "b", "c"]) c.propose(1, v);
  c.deliverAll();
  c.start(2, { fenceRound: 1, incarnation: 2 });
  return c;
}

test("a Learned heartbeat reply carrying a fence promise above the leader's ballot makes the leader start a new ballot", (t) => {
  const c = restarted();
  c.tickAll(2);
  const learned = c.deliver(where({ type: "commit", to: 2 }));
  t.is(learned.length, 1);
  const reply = as(c.pending(where({ type: "learned", from: 2 }))[0], "learned");
  t.deepEqual(reply.promised, fenceBallot(1));
  t.true(reply.recovering);
  c.deliver(where({ type: "learned", from: 2 }));
  t.like(c.eventsOf(1, "stepped-down")[0], { ballot: ballot(1, 1) });
  c.queue = [];
  let asked = false;
  for (let i = 0; i < 4 && !asked; i++) asked = c.tick(1).requestRound;
  t.true(asked, "the leader asks for a new round");
  c.grantRound(1, 2);
  c.deliverAll((m) => m.type === "prepare" || m.type === "promise");
  t.is(c.node(1).status().role, "leader");
  t.like(c.eventsOf(1, "leading").at(-1), { ballot: ballot(2, 1), fromIndex: 4, horizon: 3 });
});

test("learning everything under ballots of round <= R does not end recovery", (t) => {
  const c = restarted({ maxCatchUpEntries: 10 });
  // Node 1 still leads round 1 (= R): its commits teach node 2 the log, not a new horizon.
  c.tick(1);
  c.tick(1);
  c.deliver(where({ type: "commit", to: 2 }));
  c.queue = [];
  c.tick(2);
  c.deliverAll(where({ type: "catchup" }));
  c.deliverAll(where({ type: "catchup-reply" }));
  t.deepEqual(c.log(2), ["a", "b", "c"]);
  t.true(c.node(2).recovering);
  t.deepEqual(c.eventsOf(2, "left-recovery"), []);
  t.is(c.node(2).status().recoveryBarrier, null);
});

test("a recovering node leaves recovery only once it has learned up to the horizon of a ballot with round > R", (t) => {
  const c = restarted({ maxCatchUpEntries: 1 });
  // Node 1 leads round 2 (> R = 1); its Phase 1 recovered up to index 3.
  c.setHint(null);
  c.setHint(1);
  c.grantRound(1, 2);
  c.deliverAll((m) => m.type === "prepare" || m.type === "promise");
  t.like(c.eventsOf(1, "leading").at(-1), { ballot: ballot(2, 1), horizon: 3 });
  c.queue = [];
  c.tick(1);
  c.tick(1);
  c.deliver(where({ type: "commit", to: 2 }));
  c.queue = [];
  t.is(c.node(2).status().recoveryBarrier, 3);
  // Catch up one entry at a time: still recovering at 1 and 2, full acceptor at 3.
  for (const expected of [1, 2, 3]) {
    t.true(c.node(2).recovering, `recovering before learning ${expected}`);
    if (expected === 1) c.tick(2);
    c.deliver(where({ type: "catchup" }));
    c.deliver(where({ type: "catchup-reply" }));
    t.is(c.node(2).status().chosenIndex, expected);
  }
  t.false(c.node(2).recovering);
  t.deepEqual(c.eventsOf(2, "left-recovery"), [{ type: "left-recovery", chosenIndex: 3 }]);
  // Now its promise is no longer marked recovering.
  const p = as(c.step(msg.prepare(3, 2, ballot(3, 3), 4)).messages[0], "promise");
  t.false(p.recovering);
});

test("fenceRound 0 starts a normal acceptor", (t) => {
  const c = new Cluster({ n: 3, start: () => ({ fenceRound: 0, incarnation: 7 }) });
  t.false(c.node(2).recovering);
  t.deepEqual(c.node(2).acceptor.promised, NO_BALLOT);
  const p = as(c.step(msg.prepare(1, 2, ballot(1, 1), 1)).messages[0], "promise");
  t.false(p.recovering);
});

test("a single-node cluster never stays recovering", (t) => {
  const c = new Cluster({ n: 1, start: () => ({ fenceRound: 3, incarnation: 2 }) });
  t.false(c.node(1).recovering);
  c.setHint(1);
  c.grantRound(1, 3);
  t.is(c.node(1).status().role, "follower", "round 3 is fenced");
  c.tick(1);
  c.tick(1);
  c.tick(1);
  c.tick(1);
  c.grantRound(1, 4);
  t.is(c.node(1).status().role, "leader");
  c.propose(1, "a");
  t.deepEqual(c.log(1), ["a"]);
});

/** Every index decided by two replicas has one value. */
function agreement(c: Cluster): string[] {
  const byIndex = new Map<number, Set<string>>();
  for (const id of c.ids) {
    for (const e of c.decided.get(id)!) {
      const set = byIndex.get(e.index) ?? new Set();
      set.add(show(e.value));
      byIndex.set(e.index, set);
    }
  }
  return [...byIndex].filter(([, s]) => s.size > 1).map(([i, s]) => `${i}: ${[...s].join(" vs ")}`);
}

/**
 * 3 nodes. Node 2 leads round 1 and chooses "v" at index 1 with node 1; node 3
 * is cut off from Phase 2 and commits (but stays live, so disposal stays at 1).
 * Node 1 restarts (fence 1), node 2 leads round 2 (quorum 2 + 3), node 1 catches
 * up index 1 by catch-up (it never accepts it again) and leaves recovery. If
 * `compactAfter`, node 1 then snapshots and compacts its log through index 1.
 * Finally node 2 goes silent and node 3 leads round 3 with node 1's promise.
 */
function exRecoveringQuorum(compactAfter: boolean) {
  const c = new Cluster({ n: 3, config: { heartbeatTicks: 2, roundRetryTicks: 2 } });
  const no3 = (m: Message) => m.to !== 3 && m.from !== 3;
  c.elect(2, 1);
  c.propose(2, "v");
  c.drop(where({ to: 3 }));
  c.deliverAll(no3);
  if (c.log(1)[0] !== "v" || c.log(2)[0] !== "v") throw new Error("setup: v not chosen");

  c.start(1, { fenceRound: 1, incarnation: 2 });
  c.tick(2);
  c.tick(2);
  c.drop(where({ to: 3 }));
  c.deliverAll(no3); // node 1's Learned carries its fence: node 2 steps down
  c.queue = [];
  for (let i = 0; i < 2; i++) c.tick(2);
  c.grantRound(2, 2);
  c.deliverAll((m) => m.type === "prepare" || m.type === "promise");
  if (c.node(2).status().role !== "leader") throw new Error("setup: node 2 does not lead round 2");

  c.tick(2);
  c.tick(2);
  c.drop(where({ to: 3 }));
  c.deliverAll(no3);
  c.tick(1);
  c.drop(where({ to: 3 }));
  c.deliverAll(no3);
  if (c.node(1).recovering || c.log(1)[0] !== "v")
    throw new Error("setup: node 1 still recovering");
  if (c.node(1).acceptor.acceptedAt(1) !== undefined) throw new Error("setup: node 1 accepted 1");
  if (compactAfter) c.absorb(1, c.node(1).compact(1));

  // Node 2 goes silent; node 3 (live, chosen index 0) takes over with node 1.
  c.queue = [];
  const no2 = (m: Message) => m.to !== 2 && m.from !== 2;
  c.setHint(3, [1, 3]);
  c.grantRound(3, 3);
  c.deliverAll(no2);
  c.propose(3, "w");
  c.deliverAll(no2);
  return c;
}

test("an ex-recovering replica reports what it learned in its Promise: a new leader recovers a value it never accepted", (t) => {
  const c = exRecoveringQuorum(false);
  t.is(c.node(3).status().role, "leader");
  t.deepEqual(c.log(3), ["v", "w"]);
  t.deepEqual(agreement(c), []);
});

// Regression (found by this suite): a replica that left recovery holds the
// values it caught up on only in its learner log; it never accepted them, and
// its pre-crash acceptances are gone. When it compacted that log it used to
// promise a Prepare from below its snapshot with no entry for those
// instances, so a lagging leader found a hole at index 1 and chose "w" there
// although "v" was chosen. Now such a Prepare is refused as Disposed (with
// the snapshot index), the lagging leader cannot complete Phase 1 without
// catching up, and nothing is decided at index 1 but "v".
test("regression: an ex-recovering replica that compacted its log refuses a Prepare from below its snapshot", (t) => {
  const c = exRecoveringQuorum(true);
  t.deepEqual(agreement(c), []);
  t.not(c.node(3).status().role, "leader", "node 3 cannot lead without catching up");
  t.true(c.log(3)[0] === undefined || c.log(3)[0] === "v");
  const refusal = c.sent.find((m) => m.type === "disposed" && m.from === 1 && m.to === 3);
  t.truthy(refusal, "node 1 refused node 3's Prepare as disposed");
  t.true(c.node(3).learner.knownChosen >= 1, "node 3 now knows it is behind and catches up");
});
