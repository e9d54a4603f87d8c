/** A follower answers a forwarded write from whichever ends first: its own apply or the leader's answer. */
import test from "ava";
import type { CommandResult } from "../../domain";
import type { KvProjection } from "../../projections/kv-projection";
import { appliedOrForwarded } from "../../replica/applied-or-forwarded";
import type { Settled } from "../../replica/waiters";
import type { ForwardReply } from "../../transport/grpc/forward";

const applied: Settled = {
  kind: "applied",
  result: { type: "txn", index: 7 } as unknown as CommandResult,
  view: {} as KvProjection,
};
const answer: ForwardReply = { outcome: "result", result: new Uint8Array([1]), index: 7 };

/** A promise and the functions that settle it, for ordering the two sides by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test("our own apply first: its result, without waiting for the leader", async (t) => {
  const forwarded = deferred<ForwardReply>();
  const outcome = appliedOrForwarded(Promise.resolve(applied), forwarded.promise);
  t.is(await outcome, applied);
  forwarded.resolve(answer);
});

test("the leader's answer first: that answer", async (t) => {
  const here = deferred<Settled>();
  t.is(await appliedOrForwarded(here.promise, Promise.resolve(answer)), answer);
  here.resolve({ kind: "timeout" });
});

test("our waiter times out first: the leader's later answer still decides", async (t) => {
  const forwarded = deferred<ForwardReply>();
  const outcome = appliedOrForwarded(Promise.resolve({ kind: "timeout" }), forwarded.promise);
  const notLeader: ForwardReply = { outcome: "notLeader", notLeader: 3 };
  forwarded.resolve(notLeader);
  t.is(await outcome, notLeader);
});

test("a forward that fails before anything is applied fails the attempt", async (t) => {
  const here = deferred<Settled>();
  const forwarded = deferred<ForwardReply>();
  const outcome = appliedOrForwarded(here.promise, forwarded.promise);
  forwarded.reject(new Error("forward stream lost"));
  await t.throwsAsync(outcome, { message: "forward stream lost" });
  here.resolve({ kind: "timeout" });
});
