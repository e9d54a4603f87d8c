/** The `paxlog` client commands and usage errors, as real processes against a real cluster. */

import anyTest, { type TestFn } from "ava";
import { jsonOut, runCli } from "../support/cli";
import { TestCluster } from "../support/cluster";
import { freePort } from "../support/ports";

const test = anyTest.serial as TestFn<{ cluster: TestCluster; endpoints: string }>;

test.before(async (t) => {
  t.context.cluster = await TestCluster.start({ nodes: 3 });
  t.context.endpoints = t.context.cluster.replicas.map((r) => r.url).join(",");
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

/** Runs a client command against the whole cluster; expects exit 0 and returns the JSON. */
async function client(t: { context: { endpoints: string } }, ...args: string[]) {
  const run = await runCli([...args, "--endpoints", t.context.endpoints]);
  if (run.code !== 0)
    throw new Error(`paxlog ${args.join(" ")}: exit ${run.code}\n${run.stdout}\n${run.stderr}`);
  return jsonOut(run);
}

test("put, get, get --sequential, incr, append, cas, cas --absent, del, keys, range, status", async (t) => {
  t.like(await client(t, "put", "k", "v"), { key: "k", value: "v", version: 1 });
  t.like(await client(t, "get", "k"), { key: "k", value: "v", version: 1 });
  t.like(await client(t, "get", "k", "--sequential"), { key: "k", value: "v" });
  t.like(await client(t, "incr", "n", "5"), { key: "n", value: "5" });
  t.like(await client(t, "append", "k", "x"), { key: "k", value: "vx", version: 2 });
  t.like(await client(t, "cas", "k", "vx", "v2"), { succeeded: true, key: "k", value: "v2" });
  t.like(await client(t, "cas", "k", "wrong", "v3"), { succeeded: false, value: "v2" });
  t.like(await client(t, "cas", "new", "--absent", "a"), { succeeded: true, value: "a" });
  t.like(await client(t, "cas", "new", "--absent", "b"), { succeeded: false, value: "a" });
  t.like(await client(t, "del", "k"), { key: "k", deleted: true });
  const keys = await client(t, "keys");
  t.deepEqual(keys.keys, ["n", "new"]);
  t.false(keys.more);
  const range = await client(t, "range", "a", "z");
  t.deepEqual(
    range.items.map((i: { key: string; value: string }) => [i.key, i.value]),
    [
      ["n", "5"],
      ["new", "a"],
    ],
  );
  const status = await client(t, "status");
  t.true([1, 2, 3].includes(status.nodeId));
  t.is(status.members.length, 3);
  t.true(status.appliedIndex >= 8);
});

test("an error answer (incr on a non-integer) exits 1 and prints the JSON error", async (t) => {
  await client(t, "put", "text", "hello");
  const run = await runCli(["incr", "text", "--endpoints", t.context.endpoints]);
  t.is(run.code, 1, run.stderr);
  t.like(jsonOut(run), { code: "NOT_AN_INTEGER" });
  t.is(typeof jsonOut(run).error, "string");
});

test("a dead first endpoint is skipped for the next one", async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const live = t.context.cluster.replica(2).url;
  const run = await runCli(["put", "via-second", "ok", "--endpoints", `${dead},${live}`]);
  t.is(run.code, 0, run.stderr);
  t.like(jsonOut(run), { key: "via-second", value: "ok" });
});

test("no endpoint answering exits 3", async (t) => {
  const dead = [await freePort(), await freePort()].map((p) => `http://127.0.0.1:${p}`);
  const run = await runCli(["get", "k", "--endpoints", dead.join(",")]);
  t.is(run.code, 3, run.stdout);
  t.regex(run.stderr, /no replica answered/);
  t.is(run.stdout, "");
});

test("paxlog --help, serve --help and sim --help exit 0", async (t) => {
  for (const [args, text] of [
    [["--help"], /Usage: paxlog <command>/],
    [["serve", "--help"], /paxlog serve — run one replica/],
    [["sim", "--help"], /--seeds/],
  ] as const) {
    const run = await runCli(args);
    t.is(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    t.regex(run.stdout, text);
  }
});

test("an unknown command exits 2", async (t) => {
  const run = await runCli(["frobnicate"]);
  t.is(run.code, 2);
  t.regex(run.stderr, /unknown command "frobnicate"/);
});

test("serve with a bad --peers exits 2 with the serve help", async (t) => {
  const run = await runCli(["serve", "--id", "1", "--peers", "not-a-peer-list"]);
  t.is(run.code, 2, run.stdout);
  t.regex(run.stderr, /--peers: "not-a-peer-list" is not ID=HOST:PORT/);
  t.regex(run.stderr, /paxlog serve — run one replica/);
});
