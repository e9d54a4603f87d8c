import test from "ava";
import type { CommandResult } from "../../domain";
import type { KvProjection } from "../../projections/kv-projection";
import { Waiters } from "../../replica/waiters";

const result = { type: "txn", index: 7 } as unknown as CommandResult;
const view = {} as KvProjection;

test("every waiter of a request gets its result once it is applied; other requests keep waiting", async (t) => {
  const w = new Waiters();
  const a = w.wait("c", 1, 5_000);
  const again = w.wait("c", 1, 5_000);
  const other = w.wait("c", 2, 5_000);
  w.applied("c", 1, result, view);
  t.deepEqual(await a, { kind: "applied", result, view });
  t.deepEqual(await again, { kind: "applied", result, view });
  t.is(w.size, 1);
  w.notLeader("c", 2);
  t.deepEqual(await other, { kind: "not-leader" });
  t.is(w.size, 0);
});

test("a waiter times out after its own deadline, not another's", async (t) => {
  const w = new Waiters();
  const started = Date.now();
  const short = w.wait("c", 1, 30);
  const long = w.wait("c", 1, 60_000);
  t.deepEqual(await short, { kind: "timeout" });
  const waited = Date.now() - started;
  t.true(waited >= 30 && waited < 2_000, `timed out after ${waited} ms`);
  t.is(w.size, 1, "the longer wait on the same request is still there");
  w.applied("c", 1, result, view);
  t.is((await long).kind, "applied");
});

test("clear fails every waiter (shutdown) and leaves nothing behind", async (t) => {
  const w = new Waiters();
  const all = [w.wait("a", 1, 60_000), w.wait("b", 1, 60_000), w.wait("b", 1, 60_000)];
  w.clear();
  t.deepEqual(await Promise.all(all), Array(3).fill({ kind: "not-leader" }));
  t.is(w.size, 0);
});

test("waiters of many clients: each settles alone, overdue ones time out, and nothing is left behind", async (t) => {
  const w = new Waiters();
  const waiting = [w.wait("a", 1, 60_000), w.wait("b", 1, 60_000), w.wait("b", 2, 60_000)];
  const overdue = w.wait("c", 5, 20);
  t.is(w.size, 4);
  w.applied("b", 2, result, view);
  w.applied("b", 3, result, view); // nobody waits for it
  w.applied("z", 1, result, view); // nor for anything of this client
  t.deepEqual(await waiting[2]!, { kind: "applied", result, view });
  t.is(w.size, 3);
  t.deepEqual(await overdue, { kind: "timeout" });
  t.is(w.size, 2);
  w.notLeader("a", 1);
  w.applied("b", 1, result, view);
  t.deepEqual(await waiting[0]!, { kind: "not-leader" });
  t.is((await waiting[1]!).kind, "applied");
  t.is(w.size, 0);
});
