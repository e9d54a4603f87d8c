/** `paxlog measure --quick` with tiny sizes: all three phases run on real processes and report numbers. */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { runCli } from "../support/cli";

test("measure --quick: a tiny run exits 0 and writes JSON with the three phases' numbers", async (t) => {
  t.timeout(170_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-measure-test-"));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const run = await runCli(
    [
      "measure",
      "--quick",
      "--writes",
      "1000",
      "--keys",
      "200",
      "--catchup-keys",
      "500",
      "--catchup-value-bytes",
      "100",
      "--rate",
      "300",
      "--rejoin-snapshot-every",
      "300",
      "--rejoin-retain-tail",
      "50",
      "--out",
      out,
    ],
    { timeoutMs: 150_000 },
  );
  t.is(
    run.code,
    0,
    `stdout:\n${run.stdout}\nstderr:\n${run.stderr}\nreplica and etcd logs:\n${logTails(out)}`,
  );
  const [dir] = fs.readdirSync(out).filter((d) => d.startsWith("measure-"));
  t.truthy(dir, "a measure-<timestamp> directory");
  const r = JSON.parse(fs.readFileSync(path.join(out, dir!, "results.json"), "utf8"));
  // heap: three replicas at 0, N and 2N writes
  t.deepEqual([...new Set(r.heap.rows.map((x: { writes: number }) => x.writes))].length, 3);
  t.is(r.heap.rows.length, 9);
  for (const row of r.heap.rows) {
    t.true(row.heapUsedMiB > 0);
    t.is(typeof row.retainedEntries, "number");
    t.is(typeof row.acceptorInstances, "number");
  }
  t.true(r.heap.throughput.every((x: { opsPerSec: number }) => x.opsPerSec > 0));
  // catch-up and rejoin: times and latency windows
  t.is(typeof r.catchup.caughtUpSeconds, "number", run.stdout);
  t.true(r.catchup.latency.before.p99 > 0);
  t.true(r.catchup.latency.during.ops > 0);
  t.is(typeof r.rejoin.rejoinSeconds, "number", run.stdout);
  t.true(r.rejoin.compactedPastIt);
  t.true(fs.readFileSync(path.join(out, dir!, "results.md"), "utf8").includes("## Heap"));
});

test("measure --help and a bad flag", async (t) => {
  const help = await runCli(["measure", "--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /--catchup-keys/);
  const bad = await runCli(["measure", "--phases", "heap,nap"]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--phases/);
});

/**
 * The end of every log a failed run left (replicas and their etcd, per
 * phase): the directory goes with the test, so what happened must be in the
 * failure message (a once-seen 60 s stall of a fresh cluster had no logs).
 */
function logTails(out: string, lines = 25): string {
  const tails: string[] = [];
  for (const run of fs.readdirSync(out)) {
    const runDir = path.join(out, run);
    if (!fs.statSync(runDir).isDirectory()) continue;
    for (const phase of fs.readdirSync(runDir).filter((d) => d.startsWith("logs-"))) {
      for (const file of fs.readdirSync(path.join(runDir, phase))) {
        const text = fs
          .readFileSync(path.join(runDir, phase, file), "utf8")
          .trimEnd()
          .split("\n");
        tails.push(
          `--- ${phase}/${file} (last ${lines} of ${text.length} lines)`,
          ...text.slice(-lines),
        );
      }
    }
  }
  return tails.join("\n");
}
