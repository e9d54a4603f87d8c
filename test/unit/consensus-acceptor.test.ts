import test from "ava";
import type { Message } from "../../consensus/messages";
import { as, ballot, batch, Cluster, msg, show } from "../support/consensus-harness";

/** Node 2 of a 3-node cluster, fed hand-made messages as if from nodes 1 and 3. */
function acceptor() {
  // Five replicas, so that accepting alone never makes this one learn (see consensus-learning).
  const c = new Cluster({ n: 5 });
  const reply = (m: Message): Message[] => [...c.step(m).messages];
  return { c, reply, node: c.node(2) };
}

test("an acceptor promises a Prepare whose ballot is at least its promise", (t) => {
  const { reply, node } = acceptor();
  const first = as(reply(msg.prepare(1, 2, ballot(1, 1), 1))[0], "promise");
  t.deepEqual(first.ballot, ballot(1, 1));
  t.deepEqual(node.acceptor.promised, ballot(1, 1));
  // Equal to the promise: promised again.
  t.is(reply(msg.prepare(1, 2, ballot(1, 1), 1))[0]?.type, "promise");
  // Higher (same round, higher node id): promised, and the promise moves.
  t.is(reply(msg.prepare(3, 2, ballot(1, 3), 1))[0]?.type, "promise");
  t.deepEqual(node.acceptor.promised, ballot(1, 3));
});

test("an acceptor answers a Prepare below its promise with a Nack carrying its promise", (t) => {
  const { reply, node } = acceptor();
  reply(msg.prepare(3, 2, ballot(2, 3), 1));
  const out = reply(msg.prepare(1, 2, ballot(2, 1), 1));
  t.is(out.length, 1);
  const nack = as(out[0], "nack");
  t.is(Number(nack.to), 1);
  t.deepEqual(nack.ballot, ballot(2, 1));
  t.deepEqual(nack.promised, ballot(2, 3));
  t.deepEqual(node.acceptor.promised, ballot(2, 3), "a refused Prepare leaves the promise alone");
});

test("an acceptor accepts at a ballot at least its promise and Nacks a lower one", (t) => {
  const { reply, node } = acceptor();
  reply(msg.prepare(3, 2, ballot(2, 3), 1));
  const ok = as(reply(msg.accept(3, 2, ballot(2, 3), 1, batch("a")))[0], "accepted");
  t.deepEqual([ok.index, ok.ballot], [1, ballot(2, 3)]);
  // A higher ballot is accepted without a Prepare, and raises the promise.
  t.is(reply(msg.accept(1, 2, ballot(3, 1), 2, batch("b")))[0]?.type, "accepted");
  t.deepEqual(node.acceptor.promised, ballot(3, 1));
  // Now (2,3) is below the promise.
  const nack = as(reply(msg.accept(3, 2, ballot(2, 3), 3, batch("c")))[0], "nack");
  t.deepEqual(nack.promised, ballot(3, 1));
  t.is(node.acceptor.acceptedAt(3), undefined, "a refused Accept stores nothing");
  t.is(show(node.acceptor.acceptedAt(1)!.value), "a");
  t.deepEqual(node.acceptor.acceptedAt(2)!.ballot, ballot(3, 1));
});

test("a duplicate Prepare or Accept is answered the same way (idempotent)", (t) => {
  const { reply, node } = acceptor();
  const prepare = msg.prepare(1, 2, ballot(2, 1), 1);
  t.deepEqual(reply(prepare), reply(prepare));
  const accept = msg.accept(1, 2, ballot(2, 1), 1, batch("a"));
  const a1 = reply(accept);
  t.deepEqual(a1, reply(accept));
  t.is(a1[0]?.type, "accepted");
  // Duplicates of refused messages are refused the same way too.
  reply(msg.prepare(3, 2, ballot(5, 3), 1));
  const lowPrepare = reply(prepare);
  t.is(lowPrepare[0]?.type, "nack");
  t.deepEqual(lowPrepare, reply(prepare));
  const lowAccept = reply(accept);
  t.is(lowAccept[0]?.type, "nack");
  t.deepEqual(lowAccept, reply(accept));
  t.is(node.acceptor.size, 1);
  t.is(show(node.acceptor.acceptedAt(1)!.value), "a");
});

test("a Promise reports accepted values at or above fromIndex with their ballots and learned values as chosen, nothing below", (t) => {
  const { c, reply } = acceptor();
  const b1 = ballot(1, 1);
  for (const [i, v] of ["a", "b", "c"].entries()) reply(msg.accept(1, 2, b1, i + 1, batch(v)));
  // Node 1 says 1..2 are chosen: node 2 accepted them in that ballot, so it learns them.
  reply(msg.commit(1, 2, b1, 2));
  t.deepEqual(c.log(2), ["a", "b"]);
  reply(msg.accept(3, 2, ballot(2, 3), 4, batch("d")));
  const promise = as(reply(msg.prepare(3, 2, ballot(5, 3), 2))[0], "promise");
  t.false(promise.recovering);
  t.is(promise.fromIndex, 2);
  const entries = [...promise.entries]
    .sort((x, y) => x.index - y.index)
    .map((e) => ({ index: e.index, value: show(e.value), ballot: e.ballot }));
  t.deepEqual(entries, [
    { index: 2, value: "b", ballot: null },
    { index: 3, value: "c", ballot: b1 },
    { index: 4, value: "d", ballot: ballot(2, 3) },
  ]);
});
