import test from "ava";
import type { Accept, Message } from "../../consensus/messages";
import { as, ballot, batch, Cluster, msg, show, where } from "../support/consensus-harness";

const accepts = (ms: readonly Message[]): Accept[] =>
  ms.filter((m): m is Accept => m.type === "accept");

/** Index -> value of the Accepts `from` sent (to any one peer). */
function proposed(ms: readonly Message[], to: number): Record<number, string> {
  const out: Record<number, string> = {};
  for (const a of accepts(ms)) if (a.to === to) out[a.index] = show(a.value);
  return out;
}

test("Phase 1 runs once per leadership: later proposals send only Accepts", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  t.is(c.sentOf(where({ type: "prepare" })).length, 2, "one Prepare per peer to get elected");
  c.sent = [];
  for (const v of ["a", "b", "c", "d", "e"]) {
    c.propose(1, v);
    c.deliverAll();
  }
  t.deepEqual(c.sentOf(where({ type: "prepare" })), []);
  t.is(c.sentOf(where({ type: "accept" })).length, 10, "one Accept per peer per command");
  t.deepEqual(c.log(1), ["a", "b", "c", "d", "e"]);
});

/** 5 nodes: node 1 prepares (5,1) from index 1; the Prepares are dropped and promises hand-made. */
function preparing() {
  const c = new Cluster({ n: 5 });
  c.campaign(1, 5);
  const prepares = c.drop(where({ type: "prepare" }));
  t0(prepares.length === 4);
  return c;
}
function t0(ok: boolean): void {
  if (!ok) throw new Error("setup failed");
}

test("Phase 1 recovery re-proposes per index the value accepted with the highest ballot, and fills holes with no-ops", (t) => {
  const c = preparing();
  const b = ballot(5, 1);
  c.step(
    msg.promise(2, 1, b, 1, [
      { index: 1, value: batch("x"), ballot: ballot(2, 2) },
      { index: 3, value: batch("p"), ballot: ballot(1, 1) },
    ]),
  );
  t.is(c.node(1).status().role, "preparing", "self + 1 promise is not a quorum of 5");
  const out = c.step(
    msg.promise(3, 1, b, 1, [
      { index: 1, value: batch("y"), ballot: ballot(3, 3) },
      { index: 4, value: batch("q"), ballot: ballot(2, 2) },
      { index: 3, value: batch("older"), ballot: ballot(0, 3) },
    ]),
  );
  t.is(c.node(1).status().role, "leader");
  t.deepEqual(proposed(out.messages, 2), { 1: "y", 2: "noop", 3: "p", 4: "q" });
  for (const a of accepts(out.messages)) t.deepEqual(a.ballot, b);
});

test("Phase 1 recovery: a value reported as chosen wins over a higher-ballot accepted one (in either order)", (t) => {
  for (const chosenFirst of [true, false]) {
    const c = preparing();
    const b = ballot(5, 1);
    const chosen = msg.promise(2, 1, b, 1, [{ index: 1, value: batch("chosen"), ballot: null }]);
    const accepted = msg.promise(3, 1, b, 1, [
      { index: 1, value: batch("late"), ballot: ballot(4, 3) },
    ]);
    c.step(chosenFirst ? chosen : accepted);
    const out = c.step(chosenFirst ? accepted : chosen);
    t.deepEqual(proposed(out.messages, 2), { 1: "chosen" }, `chosen first: ${chosenFirst}`);
  }
});

test("the leader's horizon on Accept and Commit is the last index its Phase 1 recovered", (t) => {
  const c = preparing();
  const b = ballot(5, 1);
  c.step(msg.promise(2, 1, b, 1, [{ index: 3, value: batch("p"), ballot: ballot(1, 1) }]));
  c.step(msg.promise(3, 1, b, 1, []));
  const leading = c.eventsOf(1, "leading");
  t.is(leading.length, 1);
  t.like(leading[0], { fromIndex: 1, horizon: 3 });
  c.propose(1, "new");
  const sent = accepts(c.pending());
  t.deepEqual(proposed(sent, 2), { 1: "noop", 2: "noop", 3: "p", 4: "new" });
  t.true(
    sent.every((a) => a.horizon === 3),
    "every Accept carries horizon 3",
  );
  // Let 2 and 3 accept everything: the Commit that follows carries the horizon too.
  c.deliverAll(where({ to: 2 }));
  c.deliverAll(where({ to: 3 }));
  c.deliverAll(where({ to: 1 }));
  const commits = c.pending(where({ type: "commit" })).map((m) => as(m, "commit"));
  t.true(commits.length > 0);
  t.true(commits.every((m) => m.horizon === 3));
  t.is(Math.max(...commits.map((m) => m.chosenIndex)), 4);
});

test("with nothing to recover the horizon is the leader's chosen index (fromIndex - 1)", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  c.deliverAll();
  c.elect(2);
  t.like(c.eventsOf(2, "leading")[0], { fromIndex: 3, horizon: 2 });
});

test("a new leader recovers a partly accepted log: all replicas decide the recovered values", (t) => {
  // Five replicas: one follower's vote with the leader's chooses nothing.
  const c = new Cluster({ n: 5 });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  c.propose(1, "c");
  // Node 2 only got index 1, node 3 only index 3; node 1 then goes silent.
  c.deliver(where({ type: "accept", to: 2, index: 1 }));
  c.deliver(where({ type: "accept", to: 3, index: 3 }));
  c.queue = [];
  c.campaign(2);
  const isolated = (m: Message) => m.from !== 1 && m.to !== 1;
  c.deliverAll(isolated);
  t.is(c.node(2).status().role, "leader");
  t.deepEqual(c.log(2), ["a", "noop", "c"]);
  t.deepEqual(c.log(3), ["a", "noop", "c"]);
  // Node 1 comes back: it adopts the recovered log ("b" was never chosen).
  c.deliverAll();
  c.tickAll(6);
  c.deliverAll();
  t.deepEqual(c.log(1), ["a", "noop", "c"]);
});

test("a leader never re-proposes an instance it already learned as chosen (regression: it stayed in flight and was resent after disposal)", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  // Node 2 misses the Accept for index 1 but accepts index 2; node 3 accepts both.
  c.drop(where({ type: "accept", to: 2, index: 1 }));
  c.deliverAll(where({ to: 3 }));
  c.deliver(where({ type: "accept", to: 2 }));
  c.deliverAll(where({ to: 1 }));
  c.deliver(where({ type: "commit", to: 2 }));
  c.queue = [];
  const node2 = c.node(2);
  t.is(node2.learner.chosenIndex, 0);
  t.is(show(node2.learner.valueAt(2)!), "b", "node 2 learned index 2 out of order");
  c.sent = [];
  c.elect(2);
  const own = c.sentOf((m) => m.type === "accept" && m.from === 2).map((m) => as(m, "accept"));
  t.deepEqual([...new Set(own.map((a) => a.index))], [1], "only index 1 is re-proposed");
  t.deepEqual(c.log(2), ["a", "b"]);
  t.is(node2.status().inFlight, 0);
  // Heartbeats, disposal and resends go on without proposing index 2 again.
  for (let i = 0; i < 20; i++) {
    c.tickAll();
    c.deliverAll();
  }
  t.deepEqual(
    c.sentOf((m) => m.type === "accept" && m.from === 2 && m.index === 2),
    [],
  );
  t.is(node2.status().disposeBelow, 3);
});
