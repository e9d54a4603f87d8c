/** `paxlog bench --vs etcd`: a tiny run against real paxlog and etcd clusters writes both systems' rows. */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { runCli, withoutPaxlogEnv } from "../support/cli";

test("bench --vs etcd: a tiny run exits 0 and writes JSON, Markdown and SVG with both systems", async (t) => {
  // Its own tmpfs root, so other runs' data directories do not count.
  const tmp = fs.mkdtempSync(
    path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "paxlog-bench-smoke-"),
  );
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-bench-test-"));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const run = await runCli(
    [
      "bench",
      "--replicas",
      "3",
      "--clients",
      "1,4",
      "--duration",
      "2s",
      "--ops",
      "put,get",
      "--prime",
      "1s",
      "--vs",
      "etcd",
      "--out",
      out,
    ],
    { timeoutMs: 60_000, env: { ...withoutPaxlogEnv(), PAXLOG_BENCH_TMPDIR: tmp } },
  );
  t.is(run.code, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  const [dir] = fs.readdirSync(out).filter((d) => d.startsWith("bench-"));
  t.truthy(dir, "a bench-<timestamp> directory");
  const result = JSON.parse(fs.readFileSync(path.join(out, dir!, "results.json"), "utf8")) as {
    rows: {
      system: string;
      op: string;
      clients: number;
      opsPerSec: number;
      windowOpsPerSec: number[];
      windowP50: number[];
      errors: number;
      genCpuPct: number;
    }[];
  };
  for (const system of ["paxlog", "etcd"])
    for (const op of ["put", "get"])
      for (const clients of [1, 4]) {
        const row = result.rows.find(
          (r) => r.system === system && r.op === op && r.clients === clients,
        );
        t.truthy(row, `row ${system} ${op} ${clients}`);
        t.true(row!.opsPerSec > 0, `${system} ${op} ${clients}: ops/s > 0`);
        t.is(row!.errors, 0, `${system} ${op} ${clients}: no errors`);
        t.true(row!.genCpuPct >= 0);
        t.is(row!.windowOpsPerSec.length, 5, `${system} ${op} ${clients}: one figure per window`);
        t.is(row!.windowP50.length, 5, `${system} ${op} ${clients}: one median per window`);
        t.true(
          row!.windowP50.every((x) => x > 0),
          `${system} ${op} ${clients}: medians > 0`,
        );
      }
  const md = fs.readFileSync(path.join(out, dir!, "results.md"), "utf8");
  t.true(md.includes("| 3 | put | 1 |"));
  // Each paired row gives the range of its windows' ratios, lowest first.
  const spreads = [...md.matchAll(/× \| (\d+\.\d\d)–(\d+\.\d\d) \|/g)];
  t.is(spreads.length, 4, md);
  for (const [, lo, hi] of spreads) t.true(Number(lo) <= Number(hi));
  t.true(fs.readFileSync(path.join(out, dir!, "plot.svg"), "utf8").startsWith("<svg"));
  t.regex(run.stdout, /load generator CPU/);
  // Each step ran as 5 windows per system, taking turns.
  t.regex(run.stdout, /2s per step in 5 windows alternating between the systems/);
  // paxlog's default client pipelines over one connection per replica (4 clients share 3 here).
  t.regex(
    run.stdout,
    /paxlog via a minimal HTTP\/1.1 client, one pipelined connection per replica/,
  );
  // etcd's default client is its gRPC API over node:http2 (its fastest path here).
  t.regex(run.stdout, /etcd via its gRPC API over node:http2/);
  // Each fresh cluster was primed, without errors, before its first step.
  t.regex(run.stdout, /primed paxlog \(3\): 1s of mixed load, \d+ ops\/s, errors 0/);
  t.regex(run.stdout, /primed etcd \(3\): 1s of mixed load, \d+ ops\/s, errors 0/);
  // The run removed its tmpfs data directories.
  t.deepEqual(fs.readdirSync(tmp), []);
});

test("bench --help and a bad flag", async (t) => {
  const help = await runCli(["bench", "--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /--vs etcd/);
  const bad = await runCli(["bench", "--duration", "soon"]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--duration/);
  const tooShort = await runCli(["bench", "--duration", "1s", "--rounds", "20"]);
  t.is(tooShort.code, 2);
  t.regex(tooShort.stderr, /at least 100ms a window/);
  const badClient = await runCli(["bench", "--etcd-client", "curl"]);
  t.is(badClient.code, 2);
  t.regex(badClient.stderr, /--etcd-client must be grpc or gateway or etcd3/);
  const badHttp = await runCli(["bench", "--http", "h2"]);
  t.is(badHttp.code, 2);
  t.regex(badHttp.stderr, /--http must be pipelined or raw or pool or agent/);
});
