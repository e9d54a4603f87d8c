/** The follower's side of forwarding: answers match by session and id, and what never left is known not applied. */
import test from "ava";
import { ForwardError } from "../../transport/grpc/forward";
import { Forwarder } from "../../transport/grpc/forward-client";

const limits = { commands: 8, bytes: 1024 };

test("an answer under another session (a previous life's) settles nothing; one under ours does", async (t) => {
  let wakes = 0;
  const f = new Forwarder(limits, () => wakes++);
  const reply = f.forward(Buffer.from("put a"), 5_000);
  t.is(wakes, 1, "a forward asks for the end-of-turn flush");
  const [sent] = f.takeOutbox();
  t.is(sent?.id, 1);
  t.deepEqual(f.takeOutbox(), [], "taken once");
  const answer = { id: 1, outcome: "result" as const, result: Buffer.from("ok"), index: 3 };
  f.settle(f.session + 1, [answer]);
  t.is(f.inFlight, 1, "still waiting");
  f.settle(f.session, [answer]);
  t.deepEqual(await reply, { outcome: "result", result: Buffer.from("ok"), index: 3 });
  t.is(f.inFlight, 0);
  f.close();
});

test("forwards that never left fail as not applied; those on a lost stream as outcome unknown", async (t) => {
  const f = new Forwarder(limits, () => {});
  const unsent = f.forward(Buffer.from("a"), 5_000);
  f.unsent(f.takeOutbox(), "no stream");
  const notApplied = await t.throwsAsync(unsent, { instanceOf: ForwardError });
  t.false(notApplied.unknown);
  const sent = f.forward(Buffer.from("b"), 5_000);
  f.takeOutbox();
  f.lost("the peer went away");
  const unknown = await t.throwsAsync(sent, { instanceOf: ForwardError });
  t.true(unknown.unknown);
  t.regex(unknown.message, /went away/);
  f.close();
});

test("two forwarders draw different sessions", (t) => {
  const sessions = new Set(
    Array.from({ length: 50 }, () => new Forwarder(limits, () => {}).session),
  );
  t.is(sessions.size, 50);
});
