/** `paxlog cluster up`: a real launcher process with etcd and 3 replicas, stopped by SIGTERM. */

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { REPLICA_NODE_FLAGS } from "../../ops/replica-node-flags";
import { CLI, runCli } from "../support/cli";
import { getJson, request } from "../support/cluster";
import {
  accepting,
  childrenOf,
  cmdline,
  freePortBlock,
  pidsWithArg,
  running,
} from "../support/procs";
import { waitFor } from "../support/wait";

const TMP_ROOT = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
const clusterDirs = () =>
  new Set(fs.readdirSync(TMP_ROOT).filter((name) => name.startsWith("paxlog-cluster-")));

test("cluster up starts etcd and 3 working replicas; SIGTERM stops all of them and removes the dir", async (t) => {
  // base+1..base+3 REST, base+4..base+6 gRPC, base+7 etcd client, base+8 etcd peer.
  const base = await freePortBlock(9);
  const restPorts = [base + 1, base + 2, base + 3];
  const grpcPorts = [base + 4, base + 5, base + 6];
  const etcdPort = base + 7;
  const name = `launch${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const dirsBefore = clusterDirs();

  const launcher = spawn(
    process.execPath,
    [
      CLI,
      "cluster",
      "up",
      "--nodes",
      "3",
      "--base-port",
      String(base),
      "--grpc-base-port",
      String(base + 3),
      "--etcd-port",
      String(etcdPort),
      "--cluster",
      name,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  for (const stream of [launcher.stdout, launcher.stderr])
    stream.setEncoding("utf8").on("data", (s: string) => output.push(s));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) =>
    launcher.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  let dir: string | null = null;
  t.teardown(async () => {
    // Whatever happened: nothing of this launch may outlive the test.
    if (exit === null) {
      launcher.kill("SIGKILL");
      await exited;
    }
    for (const pid of [...pidsWithArg(name), ...(dir ? pidsWithArg(dir) : [])]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tail = () => output.join("").split("\n").slice(-40).join("\n");

  const startedAt = Date.now();
  await waitFor(
    async () => {
      if (exit !== null) throw new Error(`launcher exited early: ${JSON.stringify(exit)}`);
      for (const port of restPorts) {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
        if (res?.status !== 200) return false;
      }
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: "all 3 /healthz answer 200" },
  ).catch((err) => {
    throw new Error(`${err.message}\n${tail()}`);
  });
  t.log(`cluster up: all 3 replicas healthy after ${Date.now() - startedAt} ms`);

  const put = await request("PUT", `http://127.0.0.1:${restPorts[0]}/v1/kv/launched`, {
    value: "yes",
  });
  t.is(put.status, 200, JSON.stringify(put.body));
  const got = await getJson(`http://127.0.0.1:${restPorts[2]}/v1/kv/launched`);
  t.is(got.status, 200, JSON.stringify(got.body));
  t.is(got.body.value, "yes");

  // The launcher's children, before it is signalled: etcd and 3 `serve` processes.
  const children = childrenOf(launcher.pid!);
  const commands = new Map(children.map((pid) => [pid, cmdline(pid) ?? []]));
  const etcdPid = children.find((pid) => path.basename(commands.get(pid)![0] ?? "") === "etcd");
  const servePids = children.filter((pid) => commands.get(pid)!.includes("serve"));
  t.truthy(etcdPid, `etcd among the children: ${JSON.stringify([...commands])}`);
  t.is(servePids.length, 3, `3 replicas among the children: ${JSON.stringify([...commands])}`);
  for (const pid of servePids) {
    const argv = commands.get(pid)!;
    t.deepEqual(
      argv.slice(1, 1 + REPLICA_NODE_FLAGS.length),
      [...REPLICA_NODE_FLAGS],
      `node flags before the script: ${JSON.stringify(argv)}`,
    );
  }
  const dataDir = commands
    .get(etcdPid!)
    ?.find((a) => a.startsWith("--data-dir="))
    ?.slice("--data-dir=".length);
  dir = dataDir ? path.dirname(dataDir) : null;
  t.truthy(dir, "etcd's --data-dir names the launcher's temporary directory");
  t.true(path.basename(dir!).startsWith("paxlog-cluster-"), dir!);
  t.false(dirsBefore.has(path.basename(dir!)), "created by this launch");
  t.true(clusterDirs().has(path.basename(dir!)));

  const signalled = Date.now();
  launcher.kill("SIGTERM");
  await Promise.race([exited, waitFor(() => exit !== null, { timeoutMs: 15_000 })]).catch(() => {});
  const stopMs = Date.now() - signalled;
  t.log(`launcher exited ${stopMs} ms after SIGTERM with ${JSON.stringify(exit)}`);
  t.deepEqual(exit, { code: 0, signal: null }, tail());
  t.true(stopMs < 10_000, `stopped within 10 s (took ${stopMs} ms)`);
  const cleanStops = output.join("").match(/"replica stopped"/g)?.length ?? 0;
  t.log(`${cleanStops} of 3 replicas logged a clean "replica stopped"`);

  // No orphan: every child is gone, no port of the cluster accepts connections.
  for (const pid of children) t.false(running(pid), `child ${pid} ${commands.get(pid)} is gone`);
  for (const port of [...restPorts, ...grpcPorts, etcdPort])
    t.false(await accepting(port), `nothing listens on ${port} any more`);
  t.false(fs.existsSync(dir!), `${dir} was removed`);
  t.regex(output.join(""), /\[cluster\] stopped/);
});

test("cluster up --help exits 0 with the usage", async (t) => {
  const run = await runCli(["cluster", "up", "--help"]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /Usage: paxlog cluster up/);
});

test("cluster up --nodes 0 exits 2 with a message", async (t) => {
  const run = await runCli(["cluster", "up", "--nodes", "0"]);
  t.is(run.code, 2);
  t.regex(run.stderr, /--nodes must be a positive integer, got "0"/);
  t.regex(run.stderr, /Usage: paxlog cluster up/);
});
