/**
 * Read-index reads (consensus/read-index.ts): a leader answers a linearizable
 * read with an index once a quorum confirms, in answers to a message sent
 * after the read arrived, that nobody outbid its ballot.
 */
import test from "ava";
import { ballot, Cluster, msg, where } from "../support/consensus-harness";

const readCommits = where({ type: "commit" });
const isReadCommit = (m: { type: string; readSeq?: number }) =>
  m.type === "commit" && (m.readSeq ?? 0) > 0;

test("a read at the leader is ready once a quorum answers a round sent after it, at the chosen index", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.propose(1, "a", "b");
  c.deliverAll();
  const chosen = c.node(1).status().chosenIndex;
  c.queue = [];
  const fx = c.read(1, 7);
  t.deepEqual(fx.readsReady, [], "not before a quorum confirms");
  const round = c.pending(readCommits);
  t.is(round.length, 2, "one commit per peer");
  t.true(round.every(isReadCommit));
  // One follower's answer completes the quorum (with the leader itself).
  c.deliver(where({ type: "commit", to: 2 }));
  c.deliver(where({ type: "learned", from: 2 }));
  t.deepEqual(c.readsReady.get(c.ids[0]!), [{ id: 7, index: chosen }]);
});

test("reads arriving while a round is in flight share the next round: one message per peer for all of them", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.queue = [];
  c.read(1, 1);
  const first = c.pending(readCommits).length;
  for (let id = 2; id <= 50; id++) c.read(1, id);
  t.is(c.pending(readCommits).length, first, "no new messages while a round is in flight");
  c.deliverAll();
  const ready = c.readsReady.get(c.ids[0]!)!.map((r) => r.id);
  t.deepEqual(
    ready.sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  const rounds = new Set(
    c.sent.filter(isReadCommit).map((m) => (m as { readSeq: number }).readSeq),
  );
  t.is(rounds.size, 2, "two rounds for 50 reads");
});

test("an answer to an earlier round does not confirm reads of a later one", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  c.queue = [];
  c.read(1, 1);
  // Node 2's answer confirms round 1; node 3's answer to it is held back.
  c.deliver(readCommits);
  const late = c.pending(where({ type: "learned", from: 3 }));
  c.drop(where({ type: "learned", from: 3 }));
  c.deliver(where({ type: "learned", from: 2 }));
  t.deepEqual(
    c.readsReady.get(c.ids[0]!)!.map((r) => r.id),
    [1],
  );
  // Read 2 starts round 2; node 3's late answer to round 1 was sent before read 2 arrived.
  c.read(1, 2);
  for (const m of late) c.step(m);
  t.deepEqual(
    c.readsReady.get(c.ids[0]!)!.map((r) => r.id),
    [1],
    "read 2 still waits",
  );
  c.deliverAll();
  t.deepEqual(
    c.readsReady.get(c.ids[0]!)!.map((r) => r.id),
    [1, 2],
  );
});

test("an answer from a replica that promised a higher ballot confirms nothing and ends the leadership; waiting reads fail", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  // Node 2 and 3 promise a higher ballot of node 3 (the leader does not know yet).
  c.step(msg.prepare(3, 2, ballot(9, 3), 1));
  c.step(msg.prepare(3, 3, ballot(9, 3), 1));
  c.queue = [];
  c.read(1, 5);
  c.deliver(where({ type: "commit" }));
  c.deliver(where({ type: "learned" }));
  t.deepEqual(c.readsReady.get(c.ids[0]!), []);
  t.deepEqual(c.readsFailed.get(c.ids[0]!), [5]);
  t.is(c.node(1).status().role, "follower");
});

test("a read at a replica that does not lead fails at once", (t) => {
  const c = new Cluster({ n: 3 });
  c.elect(1);
  const fx = c.read(2, 3);
  t.deepEqual(fx.readsFailed, [3]);
  t.deepEqual(fx.messages, []);
});

test("a lost round is resent after resendTicks to the peers that did not answer", (t) => {
  const c = new Cluster({ n: 3, config: { resendTicks: 3 } });
  c.elect(1);
  c.queue = [];
  c.read(1, 1);
  c.drop(readCommits);
  for (let i = 0; i < 2; i++) c.tick(1);
  t.is(c.pending(where({ type: "commit" })).filter(isReadCommit).length, 0);
  c.tick(1);
  const resent = c.pending(where({ type: "commit" })).filter(isReadCommit);
  t.is(resent.length, 2);
  c.deliverAll();
  t.deepEqual(
    c.readsReady.get(c.ids[0]!)!.map((r) => r.id),
    [1],
  );
});

test("a new leader's read index covers its Phase 1 horizon, above what it has learned", (t) => {
  // Five replicas, so that node 2 accepting node 1's entries does not make them chosen.
  const c = new Cluster({ n: 5 });
  c.elect(1);
  // Node 1 gets 1..3 accepted by node 2 only; node 2 takes over and re-proposes them.
  c.queue = [];
  c.propose(1, "a");
  c.propose(1, "b");
  c.propose(1, "c");
  c.drop(where({ to: 3 }));
  c.drop(where({ to: 4 }));
  c.drop(where({ to: 5 }));
  c.deliver(where({ type: "accept", to: 2 }));
  c.queue = [];
  c.campaign(2);
  // Phase 1 with nodes 3 and 4 only; accepts of the re-proposals held back.
  c.deliver(where({ type: "prepare", to: 3 }));
  c.deliver(where({ type: "prepare", to: 4 }));
  c.deliver(where({ type: "promise", to: 2 }));
  const leading = c.eventsOf(2, "leading").at(-1);
  t.like(leading, { type: "leading", horizon: 3 });
  t.is(c.node(2).status().chosenIndex, 0);
  c.drop(where({ type: "accept" }));
  c.read(2, 9);
  c.deliverAll(where({ type: "commit" }));
  c.deliverAll(where({ type: "learned" }));
  t.deepEqual(c.readsReady.get(c.ids[1]!), [{ id: 9, index: 3 }]);
});
