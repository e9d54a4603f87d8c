/**
 * `paxlog check --compose` end to end: the fault-injection run against the
 * compose cluster, which it brings up and takes down itself. Four fault kinds,
 * one per way the containers are broken (docker kill + start, docker pause,
 * a partition by iptables, an isolation until the others compact), are asked
 * for often enough that each gets dealt even on a loaded machine (the nemesis
 * deals the kinds from a shuffled deck); the run must come out clean. Run by `npm run
 * test:e2e` after `npm run docker:build`; the e2e files run one at a time
 * (ava.e2e.config.mjs: serial), and leftovers of another are removed first.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import type { FaultKind } from "../../ops/check/run/nemesis";
import type { CheckRunReport } from "../../ops/check/run/runner";
import { containers } from "../../ops/docker/compose-cluster";
import { runCli } from "../support/cli";
import { composeDown } from "../support/e2e-compose";

const FAULTS: readonly FaultKind[] = [
  "kill-leader",
  "pause",
  "partition-leader",
  "isolate-compact",
];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-check-compose-"));

test.before(async () => {
  await composeDown(); // the run refuses to start over existing containers
});

test.after.always(async () => {
  await composeDown(); // in case the run died before its own teardown
  fs.rmSync(dir, { recursive: true, force: true });
});

test("paxlog check --compose: faults of each kind on the containers, linearizable, nothing lost", async (t) => {
  const out = path.join(dir, "run");
  const run = await runCli(
    [
      "check",
      "--compose",
      "--time",
      "30s",
      "--faults",
      FAULTS.join(","),
      "--interval",
      "0.5s",
      "--hold",
      "1s",
      "--seed",
      "8",
      "--out",
      out,
    ],
    { timeoutMs: 150_000 },
  );
  t.log(`${run.stdout}\n(${(run.ms / 1000).toFixed(1)} s in all)`);
  if (run.code !== 0) t.log(run.stderr.slice(-4000));
  t.is(run.code, 0);
  const report = JSON.parse(
    fs.readFileSync(path.join(out, "report.json"), "utf8"),
  ) as CheckRunReport;
  t.true(report.compose);
  t.is(report.verdict, "ok");
  t.is(report.lostWrites.length, 0, "no acknowledged write lost");
  t.is(report.sequentialAnomalies, 0);
  t.is(report.digests.equal, true, "every replica ends with the same digest");
  t.true(report.ops.ok > 500, "ops were acknowledged");
  for (const kind of FAULTS) {
    t.true(
      report.faults.some((f) => f.kind === kind),
      `at least one ${kind} was injected`,
    );
  }
  t.regex(run.stdout, /lost acknowledged writes: 0/);
  t.deepEqual(await containers(), [], "the run took its cluster down");

  // The containers' logs were kept, and show the faults took effect inside.
  const logs = [1, 2, 3, 4, 5].map((id) =>
    fs.readFileSync(path.join(out, `replica-${id}.log`), "utf8"),
  );
  t.true(
    logs.every((l) => l.includes("replica serving")),
    "a log per replica",
  );
  const restarts = logs.join("").split('"replica starting"').length - 1;
  const killed = report.faults
    .filter((f) => f.kind === "kill-leader")
    .reduce((n, f) => n + f.targets.length, 0);
  t.is(restarts, 5 + killed, "every killed container started again (empty)");
  if (report.faults.some((f) => f.kind === "isolate-compact" && f.note?.includes("past it: yes")))
    t.true(
      logs.some((l) => l.includes("installed a snapshot")),
      "an isolated replica the others compacted past caught up by snapshot",
    );
});
