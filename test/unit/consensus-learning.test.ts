import test, { type ExecutionContext } from "ava";
import { InvariantViolation } from "../../consensus/invariant";
import { as, ballot, batch, Cluster, msg, where } from "../support/consensus-harness";

test("a follower learns an instance it accepted from the leader's Commit in the same ballot", (t) => {
  // Five replicas: the leader's vote and one follower's are not a quorum.
  const c = new Cluster({ n: 5 });
  c.elect(1);
  c.propose(1, "a");
  c.deliver(where({ type: "accept" }));
  c.deliver(where({ type: "accepted" }));
  t.deepEqual(c.log(1), ["a"]);
  t.deepEqual(c.log(2), [], "accepting is not learning");
  const commit = as(c.pending(where({ type: "commit", to: 2 }))[0], "commit");
  t.is(commit.chosenIndex, 1);
  c.deliver(where({ type: "commit" }));
  t.deepEqual(c.log(2), ["a"]);
  t.deepEqual(c.log(3), ["a"]);
});

test("with three replicas a follower learns a value as it accepts it from the ballot's owner: two votes are a quorum", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  c.deliver(where({ type: "accept", to: 2 }));
  t.deepEqual(c.log(2), ["a", "b"], "learned with no Commit");
  t.deepEqual(c.log(3), []);
  t.deepEqual(c.log(1), [], "the leader learns when the Accepted arrives");
  c.deliver(where({ type: "accepted", from: 2 }));
  t.deepEqual(c.log(1), ["a", "b"]);
});

test("an Accept whose sender does not own its ballot teaches nothing (the owner's vote is not implied)", (t) => {
  const c = new Cluster({ n: 3 });
  c.step(msg.accept(3, 2, ballot(1, 1), 1, batch("x")));
  t.deepEqual(c.log(2), []);
  t.like(c.node(2).acceptor.acceptedAt(1), { ballot: ballot(1, 1) }, "accepted all the same");
});

test("a follower learns from the chosenIndex piggybacked on the next Accept", (t) => {
  const c = new Cluster({ n: 5 });
  c.elect(1);
  c.propose(1, "a");
  c.deliver(where({ type: "accept" }));
  c.deliver(where({ type: "accepted" }));
  c.drop(where({ type: "commit" }));
  c.propose(1, "b");
  const next = as(c.pending(where({ type: "accept", to: 2 }))[0], "accept");
  t.deepEqual([next.index, next.chosenIndex], [2, 1]);
  c.deliver(where({ type: "accept", to: 2 }));
  t.deepEqual(c.log(2), ["a"]);
});

test("a Commit does not teach a value accepted in another ballot: the follower catches up instead", (t) => {
  const c = new Cluster({ n: 5 });
  // Node 2 accepted "x" at index 1 in ballot (1,1); node 3 (ballot (2,3)) says index 1 is chosen.
  c.step(msg.accept(1, 2, ballot(1, 1), 1, batch("x")));
  c.step(msg.commit(3, 2, ballot(2, 3), 1));
  t.deepEqual(c.log(2), []);
  t.is(c.node(2).learner.knownChosen, 1);
  c.queue = [];
  c.tick(2);
  const ask = as(c.pending(where({ type: "catchup" }))[0], "catchup");
  t.like(ask, { from: 2, to: 3, fromIndex: 1, toIndex: 1 });
  c.drop(where({ type: "catchup" }));
  c.step(msg.catchUpReply(3, 2, [{ index: 1, value: batch("y") }], 0, 1));
  t.deepEqual(c.log(2), ["y"]);
});

test("decided entries come out in index order, each exactly once", (t) => {
  const c = new Cluster({ n: 3 });
  const reply = (entries: number[]) =>
    msg.catchUpReply(
      1,
      2,
      entries.map((i) => ({ index: i, value: batch(`v${i}`) })),
      0,
      4,
    );
  c.step(reply([3]));
  c.step(reply([4, 2]));
  t.deepEqual(c.decidedIndexes(2), [], "nothing before index 1 is known");
  c.step(reply([1]));
  t.deepEqual(c.decidedIndexes(2), [1, 2, 3, 4]);
  t.deepEqual(c.log(2), ["v1", "v2", "v3", "v4"]);
  c.step(reply([1, 2, 3, 4]));
  c.step(reply([4]));
  t.deepEqual(c.decidedIndexes(2), [1, 2, 3, 4], "duplicates release nothing again");
});

test("decided entries are released exactly once even when the same instance arrives by Commit and by catch-up", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  c.deliverAll();
  c.step(msg.catchUpReply(1, 2, [{ index: 1, value: batch("a") }], 0, 2));
  c.tickAll(10);
  c.deliverAll();
  t.deepEqual(c.decidedIndexes(2), [1, 2]);
  t.deepEqual(c.decidedIndexes(1), [1, 2]);
});

test("a follower that misses an instance asks for it with CatchUp on tick and learns it from the reply", (t) => {
  const c = new Cluster({ n: 3, config: { heartbeatTicks: 100 } });
  c.elect(1);
  c.propose(1, "a");
  c.drop(where({ type: "accept", to: 2 }));
  c.deliverAll(where({ to: 3 }));
  c.deliverAll(where({ to: 1 }));
  c.deliver(where({ type: "commit", to: 2 }));
  t.deepEqual(c.log(2), []);
  t.deepEqual(c.pending(where({ from: 2 })), [], "no catch-up before a tick");
  c.tick(2);
  const ask = as(c.pending(where({ type: "catchup", from: 2 }))[0], "catchup");
  t.like(ask, { to: 1, fromIndex: 1, toIndex: 1 });
  c.deliver(where({ type: "catchup" }));
  c.deliver(where({ type: "catchup-reply" }));
  t.deepEqual(c.log(2), ["a"]);
});

test("a catch-up reply from a peer whose snapshot is beyond our chosen index asks for a snapshot, once per snapshotRetryTicks", (t) => {
  const c = new Cluster({ n: 3, config: { snapshotRetryTicks: 10, resendTicks: 2 } });
  const reply = msg.catchUpReply(1, 2, [], 10, 12);
  t.deepEqual(c.step(reply).snapshotNeeded, { from: 1, index: 10 });
  t.is(c.step(reply).snapshotNeeded, null, "not asked again right away");
  c.queue = [];
  for (let i = 1; i < 10; i++) c.tick(2);
  t.deepEqual(
    c.pending(where({ type: "catchup" })),
    [],
    "no catch-up while the snapshot is awaited",
  );
  t.is(c.step(reply).snapshotNeeded, null);
  resumesOnNextTick(t, c, reply, "after snapshotRetryTicks");
});

/** One more tick of node 2 sends one CatchUp, and the same reply asks for the snapshot again. */
function resumesOnNextTick(
  t: ExecutionContext,
  c: Cluster,
  reply: ReturnType<typeof msg.catchUpReply>,
  when: string,
): void {
  c.tick(2);
  t.is(c.pending(where({ type: "catchup" })).length, 1, `catch-up resumes ${when}`);
  t.deepEqual(c.step(reply).snapshotNeeded, { from: 1, index: 10 }, `snapshot asked again ${when}`);
}

test("a snapshot reported not installed lets catch-up resume after resendTicks, and a snapshot be asked for again", (t) => {
  const c = new Cluster({ n: 3, config: { snapshotRetryTicks: 100, resendTicks: 2 } });
  const reply = msg.catchUpReply(1, 2, [], 10, 12);
  t.deepEqual(c.step(reply).snapshotNeeded, { from: 1, index: 10 });
  c.queue = [];
  c.absorb(2, c.node(2).snapshotFailed());
  c.tick(2);
  t.deepEqual(
    c.pending(where({ type: "catchup" })),
    [],
    "not at once: resendTicks bound the retry rate",
  );
  resumesOnNextTick(t, c, reply, "long before snapshotRetryTicks");
});

test("installSnapshot(i) moves the chosen index to i, releases the entries learned after i in order, and disposes below i+1", (t) => {
  const c = new Cluster({ n: 3 });
  c.step(msg.accept(1, 2, ballot(1, 1), 5, batch("old")));
  t.is(c.node(2).acceptor.size, 1);
  const need = c.step(
    msg.catchUpReply(
      1,
      2,
      [
        { index: 12, value: batch("l") },
        { index: 11, value: batch("k") },
      ],
      10,
      12,
    ),
  ).snapshotNeeded;
  t.deepEqual(need, { from: 1, index: 10 });
  t.deepEqual(c.decidedIndexes(2), []);
  const fx = c.absorb(2, c.node(2).installSnapshot(10));
  t.deepEqual(
    fx.decided.map((e) => e.index),
    [11, 12],
  );
  t.deepEqual(c.log(2), ["k", "l"]);
  const s = c.node(2).status();
  t.like(s, { chosenIndex: 12, snapshotIndex: 10, disposeBelow: 11, acceptorInstances: 0 });
  t.deepEqual(fx.events, [{ type: "disposed", disposeBelow: 11 }]);
  // A stale snapshot is ignored.
  t.deepEqual(c.node(2).installSnapshot(8).decided, []);
  t.is(c.node(2).status().chosenIndex, 12);
});

test("compact(i) drops the retained log: catch-up for older entries then reports the snapshot index", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  for (const v of ["a", "b", "c"]) c.propose(1, v);
  c.deliverAll((m) => m.to !== 3 && m.from !== 3);
  c.queue = [];
  t.is(c.node(1).status().retainedEntries, 3);
  c.absorb(1, c.node(1).compact(2));
  t.like(c.node(1).status(), { retainedEntries: 1, snapshotIndex: 2, chosenIndex: 3 });
  const out = c.step(msg.catchUp(3, 1, 1, 3));
  const reply = as(out.messages[0], "catchup-reply");
  t.like(reply, { snapshotIndex: 2, chosenIndex: 3 });
  t.deepEqual(
    reply.entries.map((e) => e.index),
    [3],
  );
  // The asker cannot progress from the log alone: it needs the snapshot, then releases index 3.
  c.queue = [];
  t.deepEqual(c.step(reply).snapshotNeeded, { from: 1, index: 2 });
  c.absorb(3, c.node(3).installSnapshot(2));
  t.deepEqual(c.decidedIndexes(3), [3]);
  t.deepEqual(c.log(3), ["c"]);
});

test("learning two different values for one index throws InvariantViolation", (t) => {
  for (const index of [1, 3]) {
    const c = new Cluster({ n: 3 });
    c.step(msg.catchUpReply(1, 2, [{ index, value: batch("a") }], 0, index));
    t.throws(() => c.step(msg.catchUpReply(3, 2, [{ index, value: batch("b") }], 0, index)), {
      instanceOf: InvariantViolation,
    });
  }
});

test("Phase 1 promises reporting two different chosen values for one index throw InvariantViolation", (t) => {
  const c = new Cluster({ n: 5 });
  c.campaign(1, 5);
  c.queue = [];
  const b = ballot(5, 1);
  c.step(msg.promise(2, 1, b, 1, [{ index: 1, value: batch("x"), ballot: null }]));
  t.throws(() => c.step(msg.promise(3, 1, b, 1, [{ index: 1, value: batch("y"), ballot: null }])), {
    instanceOf: InvariantViolation,
  });
});
