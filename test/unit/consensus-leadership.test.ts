import test from "ava";
import { ballot, Cluster, msg, where } from "../support/consensus-harness";

test("a Nack with a higher ballot makes the leader step down, and, still named by the hint, ask for a new round after roundRetryTicks", (t) => {
  const c = new Cluster({ n: 3, config: { roundRetryTicks: 4 } });
  c.elect(1, 1);
  // Node 2 promised a higher ballot of node 3 meanwhile.
  c.step(msg.prepare(3, 2, ballot(5, 3), 1));
  c.queue = [];
  c.propose(1, "a");
  c.drop(where({ to: 3 }));
  c.deliver(where({ type: "accept", to: 2 }));
  const requestsBefore = c.roundRequests.get(c.ids[0]!)!;
  const fx = c.deliver(where({ type: "nack", to: 1 }));
  t.is(fx.length, 1);
  t.like(c.eventsOf(1, "stepped-down")[0], { type: "stepped-down", ballot: ballot(1, 1) });
  t.is(c.node(1).status().role, "follower");
  for (let i = 1; i < 4; i++) t.false(c.tick(1).requestRound, `no round request at tick ${i}`);
  t.true(c.tick(1).requestRound, "a new round is asked for after roundRetryTicks");
  t.is(c.roundRequests.get(c.ids[0]!)!, requestsBefore + 1);
  t.is(c.node(1).status().role, "awaiting-round");
  // With a round above the Nack's ballot it leads again.
  c.queue = [];
  c.grantRound(1, 6);
  c.deliverAll();
  t.is(c.node(1).status().role, "leader");
});

test("a Nack for a ballot the leader does not (or no longer) use is ignored", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1, 2);
  c.step({
    type: "nack",
    from: c.ids[1]!,
    to: c.ids[0]!,
    ballot: ballot(1, 1),
    promised: ballot(9, 3),
  });
  t.is(c.node(1).status().role, "leader");
  t.deepEqual(c.eventsOf(1, "stepped-down"), []);
});

test("a Prepare with a higher ballot from another node ends the leadership", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1, 1);
  const fx = c.step(msg.prepare(3, 1, ballot(2, 3), 1));
  t.is(fx.messages[0]?.type, "promise");
  t.is(c.node(1).status().role, "follower");
  t.like(c.eventsOf(1, "stepped-down")[0], { ballot: ballot(1, 1) });
});

test("propose on a node the hint does not name returns the commands in rejected", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  const fx = c.propose(2, "a", "b");
  t.deepEqual(fx.messages, []);
  t.deepEqual(c.rejectedOf(2), ["a", "b"]);
  c.setHint(null);
  c.propose(1, "c");
  t.deepEqual(c.rejectedOf(1), ["c"], "no hint at all: even the old leader refuses");
});

test("a leader whose hint moves away steps down and returns its queued commands in rejected", (t) => {
  const c = new Cluster({ n: 3, config: { window: 1 } });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b", "c");
  t.like(c.node(1).status(), { inFlight: 1, pending: 2 });
  c.setHint(2, [1]);
  t.is(c.node(1).status().role, "follower");
  t.is(c.eventsOf(1, "stepped-down").length, 1);
  t.deepEqual(c.rejectedOf(1), ["b", "c"]);
  t.is(c.node(1).status().pending, 0);
});

test("the node the hint names asks for a round; a round at or below its own promise is refused and retried later", (t) => {
  const c = new Cluster({ n: 3, config: { roundRetryTicks: 3 } });
  c.step(msg.prepare(3, 1, ballot(4, 3), 1));
  c.queue = [];
  c.setHint(1);
  t.is(c.roundRequests.get(c.ids[0]!), 1);
  c.grantRound(1, 4);
  t.is(c.node(1).status().role, "follower", "(4,1) is below the promise (4,3)");
  t.deepEqual(c.pending(where({ type: "prepare" })), []);
  c.tickAll(2);
  t.is(c.roundRequests.get(c.ids[0]!), 1);
  c.tick(1);
  t.is(c.roundRequests.get(c.ids[0]!), 2);
});

test("a leader that hears from no quorum for quorumLossTicks steps down, rejects its queue and relinquishes the hint", (t) => {
  const c = new Cluster({ n: 3, config: { quorumLossTicks: 6, heartbeatTicks: 2, window: 1 } });
  c.elect(1, 1);
  c.propose(1, "x"); // in flight (window 1)
  c.propose(1, "y"); // queued behind it
  c.queue = []; // the peers are cut off: nothing of theirs arrives any more
  let relinquished = false;
  let ticks = 0;
  while (!relinquished && ticks < 20) {
    ticks++;
    relinquished = c.tick(1).relinquish;
    c.queue = [];
  }
  t.true(relinquished, "the leader gave up the hint");
  t.true(ticks >= 6 && ticks <= 8, `after about quorumLossTicks (${ticks} ticks)`);
  t.is(c.node(1).status().role, "follower");
  t.like(c.eventsOf(1, "stepped-down").at(-1), { reason: "no quorum of peers heard from" });
  t.deepEqual(c.rejectedOf(1), ["y"], "the queued command goes back to its client");
});

test("a leader that keeps hearing from a quorum never relinquishes, even with one peer silent", (t) => {
  const c = new Cluster({ n: 3, config: { quorumLossTicks: 6, heartbeatTicks: 2 } });
  c.elect(1, 1);
  for (let i = 0; i < 40; i++) {
    t.false(c.tick(1).relinquish, `tick ${i}`);
    c.drop(where({ to: 3 }));
    c.deliverAll(where({ from: 2 }));
    c.deliverAll(where({ to: 2 }));
    c.deliverAll(where({ from: 2 }));
  }
  t.is(c.node(1).status().role, "leader");
});
