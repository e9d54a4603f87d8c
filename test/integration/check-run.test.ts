import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import anyTest, { type TestFn } from "ava";
import type { HistoryEntry } from "../../ops/check/history";
import { parseHistory, serializeHistory } from "../../ops/check/history-jsonl";
import type { CheckRunReport } from "../../ops/check/run/runner";
import { runCli } from "../support/cli";

/**
 * `paxlog check` end to end: a short fault-injection run on 3 real replicas
 * must come out clean; then the same run's history with one planted stale
 * read must be reported as a violation (exit 1, failing partition saved).
 */

const test = anyTest.serial as TestFn<{ dir: string }>;

test.before((t) => {
  t.context.dir = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-check-run-"));
});
test.after.always((t) => {
  fs.rmSync(t.context.dir, { recursive: true, force: true });
});

test("a 20 s run on 3 replicas with every fault: linearizable, no anomalies, equal digests", async (t) => {
  t.timeout(150_000);
  const out = path.join(t.context.dir, "run");
  const run = await runCli(
    ["check", "--time", "20s", "--nodes", "3", "--seed", "7", "--interval", "3s", "--out", out],
    { timeoutMs: 140_000 },
  );
  t.log(run.stdout);
  if (run.code !== 0) t.log(run.stderr.slice(-4000));
  t.is(run.code, 0);
  const report = JSON.parse(
    fs.readFileSync(path.join(out, "report.json"), "utf8"),
  ) as CheckRunReport;
  t.is(report.verdict, "ok");
  t.true(report.faults.length > 0, "faults were injected");
  t.true(report.ops.ok > 100, "ops were acknowledged");
  t.true(report.digests.equal === true, "digests equal");
  t.is(report.lostWrites.length, 0);
  t.is(report.sequentialAnomalies, 0);
  t.regex(run.stdout, /linearizability: ok/);
  t.true(fs.existsSync(path.join(out, "history.jsonl")));
});

test("the reporting path: the run's history with a planted stale read is a violation (exit 1)", async (t) => {
  const out = path.join(t.context.dir, "run");
  const history = [...parseHistory(fs.readFileSync(path.join(out, "history.jsonl"), "utf8"))];
  // The final read of a key, and an earlier acknowledged put of another value to it.
  const finals = history.filter((e) => e.clientId === "final" && e.result.status === "ok");
  let planted: HistoryEntry | undefined;
  for (const final of finals) {
    if (final.op.kind !== "get") continue;
    const key = final.op.key;
    const shown = (final.result as { value: string | null }).value;
    const old = history.find(
      (e) =>
        e.op.kind === "put" &&
        e.op.key === key &&
        e.op.value !== shown &&
        e.result.status === "ok" &&
        e.returnTime < final.invokeTime,
    );
    if (old === undefined || old.op.kind !== "put") continue;
    // A linearizable read after the final read that sees an overwritten value: stale.
    planted = {
      id: Math.max(...history.map((e) => e.id)) + 1,
      clientId: "planted",
      invokeTime: final.returnTime + 1,
      returnTime: final.returnTime + 2,
      op: { kind: "get", key, consistency: "linearizable" },
      result: { status: "ok", value: old.op.value },
    };
    break;
  }
  if (planted === undefined)
    return t.fail("no key had an overwritten put to plant a stale read of");
  const bad = path.join(t.context.dir, "bad");
  fs.mkdirSync(bad);
  fs.writeFileSync(path.join(bad, "history.jsonl"), serializeHistory([...history, planted]));
  const run = await runCli(["check", "--history", path.join(bad, "history.jsonl")], {
    timeoutMs: 60_000,
  });
  t.log(run.stdout.slice(0, 3000));
  t.is(run.code, 1);
  t.regex(run.stdout, /NOT LINEARIZABLE on key\(s\)/);
  t.regex(run.stdout, new RegExp(`#${planted.id}\\s+planted`));
  t.true(fs.existsSync(path.join(bad, "violation.svg")));
  t.true(fs.existsSync(path.join(bad, "violation.txt")));
  // The same history without the planted read is fine.
  const good = await runCli(["check", "--history", path.join(out, "history.jsonl")], {
    timeoutMs: 60_000,
  });
  t.is(good.code, 0);
});
