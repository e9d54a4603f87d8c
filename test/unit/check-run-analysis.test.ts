import test from "ava";
import type { HistoryEntry } from "../../ops/check/history";
import { findLostWrites } from "../../ops/check/run/analysis";
import { slowestRecovery } from "../../ops/check/run/runner";

const put = (id: number, key: string, value: string, at: number): HistoryEntry => ({
  id,
  clientId: `c${id}`,
  invokeTime: at,
  returnTime: at + 1,
  op: { kind: "put", key, value },
  result: { status: "ok" },
});
const read = (id: number, key: string, value: string | null, at: number): HistoryEntry => ({
  id,
  clientId: "final",
  invokeTime: at,
  returnTime: at + 1,
  op: { kind: "get", key, consistency: "linearizable" },
  result: { status: "ok", value },
});

test("an acked write after the one the final read shows is reported lost", (t) => {
  const h = [put(1, "k", "a", 0), put(2, "k", "b", 10), read(3, "k", "a", 20)];
  const lost = findLostWrites(h, [h[2]!]);
  t.is(lost.length, 1);
  t.is(lost[0]!.lost, 2);
  t.is(lost[0]!.shownBy, 1);
});

test("concurrent writes may end either way; a value nobody wrote is reported", (t) => {
  const a = put(1, "k", "a", 0);
  const b = { ...put(2, "k", "b", 0), returnTime: 5 };
  t.deepEqual(findLostWrites([a, b, read(3, "k", "a", 20)], [read(3, "k", "a", 20)]), []);
  const ghost = findLostWrites([a, read(4, "k", "zzz", 20)], [read(4, "k", "zzz", 20)]);
  t.is(ghost.length, 1);
  t.regex(ghost[0]!.message, /written by no op/);
});

test("slowest recovery: from a fault's start or end to the first write sent after it and acked", (t) => {
  const faults = [{ kind: "kill-leader" as const, targets: [1], start: 100, end: 300 }];
  const writes = [
    { attemptStart: 50, returnTime: 1000 }, // sent before the fault: does not count
    { attemptStart: 120, returnTime: 900 }, // stuck through the fault
    // sent after the fault began, acked first: the cluster took writes again at 420
    { attemptStart: 400, returnTime: 420 },
  ];
  const r = slowestRecovery(faults, writes);
  t.is(r?.ms, 320);
  t.regex(r!.after, /start of kill-leader/);
});
