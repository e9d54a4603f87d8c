import test from "ava";
import { as, Cluster, show, where } from "../support/consensus-harness";

test("an instance is decided once a quorum accepted it, not before", (t) => {
  const c = new Cluster({ n: 5 });
  c.elect(1);
  c.propose(1, "a");
  c.deliver(where({ type: "accept" }));
  t.is(c.pending(where({ type: "accepted", to: 1 })).length, 4);
  c.deliver(where({ type: "accepted", from: 2 }));
  t.deepEqual(c.log(1), [], "leader + 1 acceptor is not a quorum of 5");
  c.deliver(where({ type: "accepted", from: 3 }));
  t.deepEqual(c.log(1), ["a"], "leader + 2 acceptors is a quorum of 5");
  // Late acceptances change nothing.
  c.deliver(where({ type: "accepted" }));
  t.deepEqual(c.log(1), ["a"]);
});

test("with a window of 2, at most 2 instances are in flight", (t) => {
  const c = new Cluster({ n: 3, config: { window: 2 } });
  c.elect(1);
  for (const v of ["a", "b", "c", "d"]) c.propose(1, v);
  const sent = c.pending(where({ type: "accept", to: 2 })).map((m) => as(m, "accept"));
  t.deepEqual(
    sent.map((a) => [a.index, show(a.value)]),
    [
      [1, "a"],
      [2, "b"],
    ],
  );
  t.like(c.node(1).status(), { inFlight: 2, pending: 2 });
});

test("commands proposed while the window is full are cut into one batch when a slot frees", (t) => {
  const c = new Cluster({ n: 3, config: { window: 2 } });
  c.elect(1);
  for (const v of ["a", "b", "c", "d", "e"]) c.propose(1, v);
  c.sent = [];
  // Index 1 gets chosen: one slot frees, and c, d, e go out as one instance.
  c.deliver(where({ type: "accept", to: 2, index: 1 }));
  c.deliver(where({ type: "accepted", index: 1 }));
  const next = c.sentOf(where({ type: "accept", to: 2 })).map((m) => as(m, "accept"));
  t.deepEqual(
    next.map((a) => [a.index, show(a.value)]),
    [[3, "c,d,e"]],
  );
  t.like(c.node(1).status(), { inFlight: 2, pending: 0 });
  c.deliverAll();
  t.deepEqual(c.log(1), ["a", "b", "c,d,e"]);
});

test("maxBatchCommands bounds the size of a batch", (t) => {
  const c = new Cluster({ n: 3, config: { window: 1, maxBatchCommands: 2 } });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b", "c", "d", "e", "f");
  c.deliverAll();
  t.deepEqual(c.log(1), ["a", "b,c", "d,e", "f"]);
  t.deepEqual(c.log(2), ["a", "b,c", "d,e", "f"]);
});

test("a dropped Accept is resent after resendTicks, to the peers that did not accept", (t) => {
  const c = new Cluster({ n: 5, config: { resendTicks: 4, heartbeatTicks: 100 } });
  c.elect(1);
  c.propose(1, "a");
  c.deliver(where({ type: "accept", to: 2 }));
  c.drop(where({ type: "accept" }));
  c.deliverAll();
  t.deepEqual(c.log(1), [], "leader + node 2 is no quorum of 5");
  c.sent = [];
  for (let i = 1; i < 4; i++) c.tick(1);
  t.deepEqual(c.sentOf(where({ type: "accept" })), [], "nothing resent before resendTicks");
  c.tick(1);
  const resent = c.sentOf(where({ type: "accept" })).map((m) => as(m, "accept"));
  t.deepEqual(resent.map((a) => [Number(a.to), a.index]).sort(), [
    [3, 1],
    [4, 1],
    [5, 1],
  ]);
  c.deliverAll();
  t.deepEqual(c.log(1), ["a"]);
});

test("a dropped Prepare is resent after resendTicks, to the peers that did not answer", (t) => {
  const c = new Cluster({ n: 5, config: { resendTicks: 4 } });
  c.campaign(1);
  c.deliver(where({ type: "prepare", to: 2 }));
  c.drop(where({ type: "prepare" }));
  c.deliverAll();
  t.is(c.node(1).status().role, "preparing");
  c.sent = [];
  for (let i = 1; i < 4; i++) c.tick(1);
  t.deepEqual(c.sentOf(where({ type: "prepare" })), []);
  c.tick(1);
  t.deepEqual(
    c.sentOf(where({ type: "prepare" })).map((m) => Number(m.to)),
    [3, 4, 5],
  );
  c.deliverAll();
  t.is(c.node(1).status().role, "leader");
});
