import net from "node:net";
import anyTest, { type TestFn } from "ava";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const test = anyTest as TestFn<{ cluster: TestCluster }>;

// One 3-replica cluster for this file; the 5-replica run is in cluster-five.test.ts.
test.before(async (t) => {
  t.context.cluster = await TestCluster.start({ nodes: 3 });
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

const url = (t: { context: { cluster: TestCluster } }, id: number, path: string) =>
  `${t.context.cluster.replica(id).url}${path}`;

// Serial: no other test's commands may be in flight while it counts waiters.
test.serial("a follower's writes and linearizable reads leave no waiter behind", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const follower = c.replicas.find((r) => r.id !== leader)!;
  for (let i = 0; i < 20; i++) {
    const put = await request("PUT", `${follower.url}/v1/kv/waiters-${i}`, { value: `v${i}` });
    t.is(put.status, 200);
  }
  // Its own apply answers a write (or the leader's reply, and then its apply follows).
  const drained = await waitFor(
    async () => {
      const v = (await getJson(`${follower.url}/v1/cluster?local=true`)).body;
      return v.waitingCommands === 0 ? v : null;
    },
    { timeoutMs: 5_000, message: "the follower's write waiters to drain" },
  );
  t.is(drained.waitingCommands, 0);
  // A read never enters the log: the leader's answer alone ends it, nothing waits on.
  for (let i = 0; i < 20; i++) {
    t.is((await getJson(`${follower.url}/v1/kv/waiters-${i}`)).body.value, `v${i}`);
  }
  t.is((await getJson(`${follower.url}/v1/cluster?local=true`)).body.waitingCommands, 0);
});

/** Writes `requests` to `port` in one write; resolves with the bodies of the first `count` answers. */
function pipelined(port: number, requests: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const socket = net.connect({ port, host: "127.0.0.1" }, () => socket.write(requests));
    const timer = setTimeout(() => reject(new Error("no answers in 10 s")), 10_000);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const bodies: string[] = [];
      let at = 0;
      for (;;) {
        const headEnd = data.indexOf("\r\n\r\n", at);
        if (headEnd < 0) break;
        const length = /content-length: *(\d+)/i.exec(data.toString("latin1", at, headEnd));
        const end = headEnd + 4 + Number(length?.[1] ?? Number.NaN);
        if (!(end <= data.length)) break;
        bodies.push(data.toString("utf8", headEnd + 4, end));
        at = end;
      }
      if (bodies.length >= count) {
        clearTimeout(timer);
        socket.destroy();
        resolve(bodies);
      }
    });
    socket.on("error", reject);
  });
}

test("pipelined requests on one connection get their own answers, in request order", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const follower = c.replicas.find((r) => r.id !== leader)!;
  t.is((await request("PUT", `${follower.url}/v1/kv/pipe-read`, { value: "before" })).status, 200);
  const put = (i: number) => {
    const body = JSON.stringify({ value: `v${i}` });
    return `PUT /v1/kv/pipe-${i} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  };
  const read = "GET /v1/kv/pipe-read?consistency=sequential HTTP/1.1\r\nhost: x\r\n\r\n";
  // Writes forwarded to the leader and a local read, interleaved on one connection.
  const requests = [put(0), read, put(1), put(2), read, put(3), put(4)].join("");
  const port = Number(new URL(follower.url).port);
  const answers = (await pipelined(port, requests, 7)).map((b) => JSON.parse(b));
  t.like(answers[0], { key: "pipe-0", value: "v0", version: 1 });
  t.like(answers[1], { key: "pipe-read", value: "before" });
  t.like(answers[2], { key: "pipe-1", value: "v1" });
  t.like(answers[3], { key: "pipe-2", value: "v2" });
  t.like(answers[4], { key: "pipe-read", value: "before" });
  t.like(answers[5], { key: "pipe-3", value: "v3" });
  t.like(answers[6], { key: "pipe-4", value: "v4" });
});

test("writes through every replica are read back linearizably from every replica", async (t) => {
  const ids = t.context.cluster.replicas.map((r) => r.id);
  for (const writer of ids) {
    const put = await request("PUT", url(t, writer, `/v1/kv/every-${writer}`), {
      value: `from ${writer}`,
    });
    t.is(put.status, 200, JSON.stringify(put.body));
    t.like(put.body, { key: `every-${writer}`, value: `from ${writer}`, version: 1 });
    t.is(put.headers.get("x-paxlog-index"), String(put.body.index));
  }
  for (const reader of ids) {
    for (const writer of ids) {
      const got = await getJson(url(t, reader, `/v1/kv/every-${writer}`));
      t.is(got.status, 200);
      t.like(got.body, { key: `every-${writer}`, value: `from ${writer}`, version: 1 });
    }
  }
});

test("a sequential read with X-Paxlog-Min-Index sees the client's own write on any replica", async (t) => {
  for (let round = 0; round < 5; round++) {
    const put = await request("PUT", url(t, 1, "/v1/kv/ryw"), { value: `v${round}` });
    t.is(put.status, 200);
    const got = await getJson(url(t, 3, "/v1/kv/ryw?consistency=sequential"), {
      "X-Paxlog-Min-Index": String(put.body.index),
    });
    t.is(got.status, 200);
    t.is(got.body.value, `v${round}`);
    t.true(got.body.index >= put.body.index);
  }
});

test("concurrent increments from many clients through all replicas are each applied once", async (t) => {
  const ids = t.context.cluster.replicas.map((r) => r.id);
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      request("POST", url(t, ids[i % ids.length]!, "/v1/kv/counter/incr"), { by: 1 }),
    ),
  );
  t.true(
    answers.every((a) => a.status === 200),
    JSON.stringify(answers.find((a) => a.status !== 200)?.body),
  );
  const values = answers.map((a) => Number(a.body.value)).sort((a, b) => a - b);
  t.deepEqual(
    values,
    Array.from({ length: 60 }, (_, i) => i + 1),
    "every increment saw a distinct value",
  );
  const got = await getJson(url(t, 2, "/v1/kv/counter"));
  t.is(got.body.value, "60");
});

test("compare-and-set succeeds on the expected value and reports the current one otherwise", async (t) => {
  const absent = await request("POST", url(t, 1, "/v1/kv/lock/cas"), {
    expected: null,
    value: "alice",
  });
  t.like(absent.body, { succeeded: true, key: "lock", value: "alice", version: 1 });
  const lost = await request("POST", url(t, 2, "/v1/kv/lock/cas"), {
    expected: null,
    value: "bob",
  });
  t.is(lost.status, 200);
  t.like(lost.body, { succeeded: false, value: "alice", version: 1 });
  const swapped = await request("POST", url(t, 3, "/v1/kv/lock/cas"), {
    expected: "alice",
    value: "bob",
  });
  t.like(swapped.body, { succeeded: true, value: "bob", version: 2 });
  const racers = await Promise.all(
    [1, 2, 3].map((id) =>
      request("POST", url(t, id, "/v1/kv/lock/cas"), { expected: "bob", value: `racer-${id}` }),
    ),
  );
  t.is(
    racers.filter((r) => r.body.succeeded === true).length,
    1,
    "exactly one concurrent CAS wins",
  );
});

test("append and txn (atomic multi-key writes and deletes)", async (t) => {
  await request("POST", url(t, 1, "/v1/kv/log/append"), { value: "a" });
  const appended = await request("POST", url(t, 2, "/v1/kv/log/append"), { value: "b" });
  t.like(appended.body, { key: "log", value: "ab", version: 2 });
  const txn = await request("POST", url(t, 3, "/v1/txn"), {
    puts: [
      { key: "t/1", value: "one" },
      { key: "t/2", value: "two" },
    ],
    deletes: ["log"],
  });
  t.is(txn.status, 200);
  t.is(typeof txn.body.index, "number");
  const listed = await getJson(url(t, 1, "/v1/kv?prefix=t/"));
  t.deepEqual(listed.body.items, [
    { key: "t/1", value: "one", version: 1 },
    { key: "t/2", value: "two", version: 1 },
  ]);
  t.is((await getJson(url(t, 2, "/v1/kv/log"))).status, 404);
  const bad = await request("POST", url(t, 1, "/v1/txn"), {
    puts: [
      { key: "t/3", value: "x" },
      { key: "", value: "y" },
    ],
  });
  t.is(bad.status, 400, "an invalid op fails the whole txn");
  t.is((await getJson(url(t, 1, "/v1/kv/t%2F3"))).status, 404, "and nothing of it was applied");
});

test("multi-get, range and key listing", async (t) => {
  for (const k of ["r/a", "r/b", "r/c", "r/d"])
    await request("PUT", url(t, 1, `/v1/kv/${encodeURIComponent(k)}`), { value: k });
  const multi = await getJson(url(t, 2, "/v1/kv?keys=r/a,r/c,r/missing&consistency=sequential"), {
    "X-Paxlog-Min-Index": "1",
  });
  t.deepEqual(
    multi.body.items.map((i: { key: string }) => i.key),
    ["r/a", "r/c"],
  );
  const ranged = await getJson(url(t, 3, "/v1/kv?start=r/b&end=r/d"));
  t.deepEqual(
    ranged.body.items.map((i: { key: string }) => i.key),
    ["r/b", "r/c"],
  );
  const limited = await getJson(url(t, 3, "/v1/kv?start=r/&limit=2"));
  t.is(limited.body.items.length, 2);
  t.true(limited.body.more);
  const keys = await getJson(url(t, 1, "/v1/keys?prefix=r/"));
  t.deepEqual(keys.body.keys, ["r/a", "r/b", "r/c", "r/d"]);
  const encoded = await getJson(url(t, 2, "/v1/keys?prefix=r%2F&after=r%2Fb"));
  t.deepEqual(encoded.body.keys, ["r/c", "r/d"], "query parameters are percent-decoded");
});

test("a retried request (same client and request id) is applied exactly once", async (t) => {
  const headers = { "X-Paxlog-Client-Id": "retrying-client", "X-Paxlog-Request-Id": "7" };
  const first = await request("POST", url(t, 1, "/v1/kv/once/incr"), { by: 10 }, headers);
  const retry = await request("POST", url(t, 2, "/v1/kv/once/incr"), { by: 10 }, headers);
  t.like(first.body, { value: "10" });
  t.deepEqual(retry.body, first.body, "the retry returns the remembered result");
  const stale = await request(
    "POST",
    url(t, 3, "/v1/kv/once/incr"),
    { by: 10 },
    { ...headers, "X-Paxlog-Request-Id": "6" },
  );
  t.is(stale.status, 409);
  t.is(stale.body.code, "STALE_REQUEST");
  t.is((await getJson(url(t, 3, "/v1/kv/once"))).body.value, "10");
});

test("a JSON body is read however it is framed: no content type, a charset, +json, chunked, or empty where optional", async (t) => {
  const port = Number(new URL(t.context.cluster.replica(1).url).port);
  const send = (head: string, ...chunks: string[]) =>
    pipelined(port, `${head}\r\n${chunks.join("")}`, 1).then((b) => JSON.parse(b[0]!));
  const plain = (type: string | null, body: string) =>
    send(
      `PUT /v1/kv/framed HTTP/1.1\r\nhost: x\r\n${type ? `content-type: ${type}\r\n` : ""}content-length: ${Buffer.byteLength(body)}\r\n`,
      body,
    );
  t.like(await plain(null, '{"value":"none"}'), { value: "none" });
  t.like(await plain("application/json; charset=utf-8", '{"value":"utf8 é"}'), { value: "utf8 é" });
  t.like(await plain("application/merge-patch+json", '{"value":"plus"}'), { value: "plus" });
  const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  t.like(
    await send(
      "PUT /v1/kv/framed HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n",
      chunk('{"val'),
      chunk('ue":"chunked"}'),
      "0\r\n\r\n",
    ),
    { value: "chunked" },
  );
  const incr = await request("POST", url(t, 1, "/v1/kv/framed-counter/incr"), undefined);
  t.is(incr.status, 200, JSON.stringify(incr.body));
  t.is(incr.body.value, "1", "an empty body takes the defaults (by 1)");
  t.is((await getJson(url(t, 2, "/v1/kv/framed"))).body.value, "chunked");
});

test("every error in the contract answers JSON {error, code} with its status", async (t) => {
  const cases: [string, string, unknown, Record<string, string>, number, string][] = [
    ["PUT", "/v1/kv/e1", "{not json", {}, 400, "BAD_REQUEST"],
    ["PUT", "/v1/kv/e1", { nope: 1 }, {}, 400, "BAD_REQUEST"],
    ["PUT", "/v1/kv/e1", { value: 42 }, {}, 400, "BAD_REQUEST"],
    ["PUT", `/v1/kv/${"k".repeat(2000)}`, { value: "x" }, {}, 413, "KEY_TOO_LARGE"],
    ["PUT", "/v1/kv/big", { value: "x".repeat(1024 * 1024 + 1) }, {}, 413, "VALUE_TOO_LARGE"],
    ["PUT", "/v1/kv/huge", { value: "x".repeat(3 * 1024 * 1024) }, {}, 413, "PAYLOAD_TOO_LARGE"],
    [
      "PUT",
      "/v1/kv/e1",
      "value=x",
      { "content-type": "application/x-www-form-urlencoded" },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    [
      "PUT",
      "/v1/kv/e1",
      { value: "x" },
      { "content-encoding": "br" },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    ["POST", "/v1/kv/e1/incr", { by: "one" }, {}, 400, "BAD_REQUEST"],
    ["POST", "/v1/kv/e1/cas", { value: "x" }, {}, 400, "BAD_REQUEST"],
    ["GET", "/v1/kv/e1?consistency=eventual", undefined, {}, 400, "BAD_REQUEST"],
    [
      "GET",
      "/v1/kv/e1?consistency=sequential&consistency=linearizable",
      undefined,
      {},
      400,
      "BAD_REQUEST",
    ],
    [
      "GET",
      "/v1/kv/e1?consistency=sequential",
      undefined,
      { "X-Paxlog-Min-Index": "-3" },
      400,
      "BAD_REQUEST",
    ],
    ["GET", "/v1/kv", undefined, {}, 400, "BAD_REQUEST"],
    ["GET", "/v1/kv?prefix=a&limit=0", undefined, {}, 400, "BAD_REQUEST"],
    ["GET", "/v1/kv?prefix=a&prefix=b", undefined, {}, 400, "BAD_REQUEST"],
    ["PUT", "/v1/kv/e1", { value: "x" }, { "X-Paxlog-Client-Id": "c" }, 400, "BAD_REQUEST"],
    [
      "PUT",
      "/v1/kv/e1",
      { value: "x" },
      { "X-Paxlog-Client-Id": "c", "X-Paxlog-Request-Id": "abc" },
      400,
      "BAD_REQUEST",
    ],
    ["GET", "/v1/nothing-here", undefined, {}, 404, "NOT_FOUND"],
  ];
  for (const [method, path, body, headers, status, code] of cases) {
    const answer = await request(method, url(t, 1, path), body, headers);
    t.is(
      answer.status,
      status,
      `${method} ${path.slice(0, 40)}: ${JSON.stringify(answer.body).slice(0, 200)}`,
    );
    t.is(answer.body.code, code, `${method} ${path.slice(0, 40)}`);
    t.is(typeof answer.body.error, "string");
    t.truthy(answer.headers.get("x-paxlog-index"));
  }
  await request("PUT", url(t, 1, "/v1/kv/word"), { value: "hello" });
  const notInt = await request("POST", url(t, 2, "/v1/kv/word/incr"), { by: 1 });
  t.is(notInt.status, 422);
  t.is(notInt.body.code, "NOT_AN_INTEGER");
  const absent = await getJson(url(t, 3, "/v1/kv/never-written"));
  t.is(absent.status, 404);
  t.is(typeof absent.body.index, "number");
  const deleted = await request("DELETE", url(t, 3, "/v1/kv/never-written"));
  t.like(deleted.body, { key: "never-written", deleted: false });
  // The replicas survived all of it.
  for (const r of t.context.cluster.replicas) t.is((await getJson(`${r.url}/healthz`)).status, 200);
});

test("/v1/cluster shows the replica's view of the cluster", async (t) => {
  const view = (await getJson(url(t, 2, "/v1/cluster"))).body;
  t.is(view.nodeId, 2);
  t.true([1, 2, 3].includes(view.leader));
  t.is(typeof view.ballot.round, "number");
  t.deepEqual(
    view.members.map((m: { id: number }) => m.id),
    [1, 2, 3],
  );
  t.true(view.members.every((m: { status: string }) => m.status === "up"));
  for (const field of [
    "chosenIndex",
    "appliedIndex",
    "disposeBelow",
    "snapshotIndex",
    "retainedEntries",
    "acceptorInstances",
    "waitingCommands",
  ]) {
    t.is(typeof view[field], "number", field);
  }
  t.is(typeof view.memory.heapUsedBytes, "number");
  t.is(typeof view.memory.rssBytes, "number");
});

test("every replica's /v1/cluster shows each member's learned index, from the leader's table", async (t) => {
  const c = t.context.cluster;
  const written = await request("PUT", url(t, 1, "/v1/kv/learned-probe"), { value: "x" });
  t.is(written.status, 200);
  const leader = await c.leader();
  for (const r of c.replicas) {
    // The leader hears each member's learned index on heartbeats: wait until all passed the write.
    const view = await waitFor(
      async () => {
        const v = (await getJson(`${r.url}/v1/cluster`)).body;
        const all = v.members.every(
          (m: { learnedIndex: number | null }) => (m.learnedIndex ?? 0) >= written.body.index,
        );
        return all ? v : null;
      },
      { timeoutMs: 5_000, intervalMs: 50, message: `replica ${r.id} shows every learned index` },
    );
    t.is(view.learnedIndexesFrom, leader, `replica ${r.id}`);
    t.true(view.disposeBelow >= 1);
  }
  // ?local=true answers from this replica's own table: a follower tracks no one else's.
  const follower = c.replicas.find((r) => r.id !== leader)!;
  const local = (await getJson(`${follower.url}/v1/cluster?local=true`)).body;
  t.is(local.learnedIndexesFrom, null);
  t.deepEqual(
    local.members
      .filter((m: { learnedIndex: number | null }) => m.learnedIndex !== null)
      .map((m: { id: number }) => m.id),
    [follower.id],
  );
});

test.serial(
  "linearizable reads go through a read-index round, not the log: the chosen index does not move",
  async (t) => {
    const c = t.context.cluster;
    const written = await request("PUT", url(t, 1, "/v1/kv/read-index"), { value: "r1" });
    t.is(written.status, 200);
    const leader = await c.leader();
    const chosen = async () =>
      (await getJson(`${c.replica(leader).url}/v1/cluster`)).body.chosenIndex;
    const before = await chosen();
    for (let i = 0; i < 30; i++) {
      const r = c.replicas[i % 3]!;
      const read = await getJson(`${r.url}/v1/kv/read-index`);
      t.is(read.body.value, "r1", `read ${i} via replica ${r.id}`);
      t.true(Number(read.headers.get("x-paxlog-index")) >= written.body.index);
    }
    t.is(await chosen(), before, "30 reads added no log entry");
  },
);
