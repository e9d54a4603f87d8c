import test from "ava";
import type { Message } from "../../consensus/messages";
import { as, ballot, batch, Cluster, msg, where } from "../support/consensus-harness";

/** 3 nodes; node 1 leads round 1 and decides a, b, c. `reach3` says whether node 3 takes part. */
function decided(reach3: boolean) {
  const c = new Cluster({ n: 3, config: { heartbeatTicks: 2, resendTicks: 1000 } });
  c.elect(1, 1);
  for (const v of ["a", "b", "c"]) c.propose(1, v);
  if (!reach3) c.drop(where({ to: 3 }));
  c.deliverAll(reach3 ? undefined : (m) => m.to !== 3);
  return c;
}

/** Two heartbeat periods: the first collects Learned reports, the second announces. */
function heartbeat(c: Cluster, deliver: (m: Message) => boolean) {
  const commits = [];
  for (let i = 0; i < 2; i++) {
    c.tick(1);
    c.tick(1);
    const hb = c.pending(where({ type: "commit", from: 1 })).map((m) => as(m, "commit"));
    commits.push(hb.filter((m) => m.heartbeat));
    c.deliverAll(deliver);
    c.queue = [];
  }
  return commits;
}

test("the heartbeat Commit carries disposeBelow = 1 + the lowest learned index over live members", (t) => {
  const c = decided(true);
  t.deepEqual(
    [c.log(2), c.log(3)],
    [
      ["a", "b", "c"],
      ["a", "b", "c"],
    ],
  );
  const [first, second] = heartbeat(c, () => true);
  t.is(first!.length, 2);
  t.true(
    first!.every((m) => m.disposeBelow === 1),
    "nobody reported yet",
  );
  t.is(second!.length, 2);
  t.true(second!.every((m) => m.disposeBelow === 4 && m.heartbeat));
  t.is(c.node(1).status().disposeBelow, 4);
});

test("the watermark is the minimum: a live member that learned less holds it back", (t) => {
  const c = new Cluster({ n: 3, config: { heartbeatTicks: 2, resendTicks: 1000 } });
  c.elect(1, 1);
  c.propose(1, "a");
  c.deliverAll();
  c.propose(1, "b");
  c.propose(1, "c");
  c.drop(where({ to: 3 }));
  c.deliverAll((m) => m.to !== 3);
  t.is(c.node(3).status().chosenIndex, 1);
  const [, second] = heartbeat(c, (m) => m.type !== "catchup");
  t.is(second!.length, 2);
  t.true(second!.every((m) => m.disposeBelow === 2));
});

test("a live member that never reported holds disposeBelow at 1", (t) => {
  const c = decided(false);
  const [, second] = heartbeat(c, (m) => m.to !== 3 && m.from !== 3);
  t.is(second!.length, 2);
  t.true(second!.every((m) => m.disposeBelow === 1));
  t.is(c.node(2).status().disposeBelow, 1);
});

test("a member not in setLiveMembers does not hold disposeBelow back", (t) => {
  const c = decided(false);
  c.absorb(1, c.node(1).setLiveMembers(c.ids.slice(0, 2)));
  const [, second] = heartbeat(c, (m) => m.to !== 3 && m.from !== 3);
  t.is(second!.length, 2);
  t.true(second!.every((m) => m.disposeBelow === 4));
  t.like(c.node(2).status(), { disposeBelow: 4, acceptorInstances: 0 });
});

test("followers drop acceptor state below disposeBelow, never beyond what they learned themselves", (t) => {
  const c = new Cluster({ n: 3 });
  const b = ballot(1, 1);
  c.step(msg.accept(1, 2, b, 1, batch("a")));
  c.step(msg.accept(1, 2, b, 3, batch("c")));
  // Index 2 never reached node 2: the Commit teaches it index 1 only.
  const fx = c.step(msg.commit(1, 2, b, 3, { disposeBelow: 4, heartbeat: true }));
  t.deepEqual(c.log(2), ["a"]);
  t.deepEqual(fx.events, [{ type: "disposed", disposeBelow: 2 }]);
  t.like(c.node(2).status(), { disposeBelow: 2, acceptorInstances: 1 });
  t.is(c.node(2).acceptor.acceptedAt(1), undefined);
  t.truthy(c.node(2).acceptor.acceptedAt(3), "index 3 is above the node's own learned prefix");
  const learned = as(
    fx.messages.find((m) => m.type === "learned"),
    "learned",
  );
  t.is(learned.learnedIndex, 1);
});

test("a Prepare with fromIndex below disposeBelow is answered Disposed, with a refused-disposed event", (t) => {
  const c = decided(true);
  heartbeat(c, () => true);
  t.is(c.node(2).status().disposeBelow, 4);
  const promisedBefore = c.node(2).acceptor.promised;
  const fx = c.step(msg.prepare(3, 2, ballot(9, 3), 2));
  t.deepEqual(fx.messages, [
    { type: "disposed", from: 2, to: 3, index: 2, disposeBelow: 4, snapshotIndex: 0 },
  ]);
  t.deepEqual(fx.events, [
    { type: "refused-disposed", from: 3, what: "prepare", index: 2, disposeBelow: 4 },
  ]);
  t.deepEqual(c.node(2).acceptor.promised, promisedBefore, "no promise was made");
  t.is(c.step(msg.prepare(3, 2, ballot(9, 3), 4)).messages[0]?.type, "promise");
});

test("an Accept below disposeBelow is answered Disposed, with a refused-disposed event", (t) => {
  const c = decided(true);
  heartbeat(c, () => true);
  const fx = c.step(msg.accept(3, 2, ballot(9, 3), 3, batch("z")));
  t.like(fx.messages[0], { type: "disposed", index: 3, disposeBelow: 4 });
  t.like(fx.events[0], { type: "refused-disposed", what: "accept", index: 3, disposeBelow: 4 });
  t.is(c.step(msg.accept(3, 2, ballot(9, 3), 4, batch("z"))).messages[0]?.type, "accepted");
});
