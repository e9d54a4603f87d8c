import http from "node:http";
import test from "ava";
import { RawHttpConnection } from "../../ops/bench/raw-http";
import { listenOnLoopback } from "../support/http-server";

/** A loopback server; `handle` answers each request. */
async function serve(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => handle(req, res, body));
  });
  server.on("connection", () => connections++);
  return { ...(await listenOnLoopback(server)), connections: () => connections };
}

test("statuses and bodies of every size come back on one kept-alive connection", async (t) => {
  const seen: string[] = [];
  const server = await serve((req, res, body) => {
    seen.push(`${req.method} ${req.url} ${req.headers["content-type"] ?? "-"} ${body}`);
    const size = Number(new URL(req.url ?? "/", "http://x").searchParams.get("size") ?? 0);
    res.writeHead(req.method === "PUT" ? 201 : 404, { "content-length": size });
    // Split in two writes so the answer can arrive in pieces.
    res.write("x".repeat(Math.floor(size / 2)));
    res.end("y".repeat(size - Math.floor(size / 2)));
  });
  const c = new RawHttpConnection("127.0.0.1", server.port);
  t.is(await c.request("PUT", "/v1/kv/a?size=0", '{"value":"é"}', "application/json"), 201);
  for (const size of [1, 100, 70_000, 3])
    t.is(await c.request("GET", `/v1/kv/b?size=${size}`), 404);
  t.deepEqual(seen, [
    'PUT /v1/kv/a?size=0 application/json {"value":"é"}',
    "GET /v1/kv/b?size=1 - ",
    "GET /v1/kv/b?size=100 - ",
    "GET /v1/kv/b?size=70000 - ",
    "GET /v1/kv/b?size=3 - ",
  ]);
  t.is(server.connections(), 1);
  c.close();
  await server.close();
});

test("a closed connection is reopened for the next request", async (t) => {
  const server = await serve((_req, res) => {
    res.writeHead(200, { "content-length": 2, connection: "close" });
    res.end("ok");
  });
  const c = new RawHttpConnection("127.0.0.1", server.port);
  t.is(await c.request("GET", "/"), 200);
  t.is(await c.request("GET", "/"), 200);
  t.is(server.connections(), 2);
  c.close();
  await server.close();
});

test("framing it does not read, a stalled server and a refused port fail the request", async (t) => {
  const chunked = await serve((_req, res) => {
    res.writeHead(200);
    res.end("no length");
  });
  const c1 = new RawHttpConnection("127.0.0.1", chunked.port);
  await t.throwsAsync(c1.request("GET", "/"), { message: /without Content-Length/ });
  await chunked.close();

  const stalled = await serve(() => {});
  const c2 = new RawHttpConnection("127.0.0.1", stalled.port, 100);
  await t.throwsAsync(c2.request("GET", "/"), { message: /no answer in 100 ms/ });
  await stalled.close();

  const free = await serve(() => {});
  const port = free.port;
  await free.close();
  const c3 = new RawHttpConnection("127.0.0.1", port);
  await t.throwsAsync(c3.request("GET", "/"), { code: "ECONNREFUSED" });
});

test("the connection's one timer times each request from its own start, also after firing idle", async (t) => {
  // Answers at once, except a request to /stall, which it never answers.
  const server = await serve((req, res) => {
    if (req.url === "/stall") return;
    res.writeHead(200, { "content-length": 0 });
    res.end();
  });
  t.teardown(() => server.close());
  const c = new RawHttpConnection("127.0.0.1", server.port, 150);
  t.teardown(() => c.close());
  // Quick answers for longer than the timeout: each request re-arms the timer, none fails.
  const until = Date.now() + 400;
  let answered = 0;
  while (Date.now() < until) {
    t.is(await c.request("GET", "/"), 200);
    answered++;
  }
  t.true(answered > 1);
  // Idle past the timeout (the timer fires with nothing in flight, and must do nothing)...
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(await c.request("GET", "/"), 200);
  // ...and a stalled request still fails, a full timeout after it started.
  const started = Date.now();
  await t.throwsAsync(c.request("GET", "/stall"), { message: /no answer in 150 ms/ });
  t.true(Date.now() - started >= 140, `failed after ${Date.now() - started} ms`);
});

test("pipelined requests share the connection, each settled by its own answer", async (t) => {
  // Answers /slow last: the server holds its answer until the others have arrived.
  let held: (() => void) | null = null;
  let arrived = 0;
  const server = await serve((req, res) => {
    arrived++;
    const answer = () => {
      res.writeHead(Number(req.url?.slice(-3)), { "content-length": 0 });
      res.end();
    };
    if (req.url?.startsWith("/slow")) held = answer;
    else answer();
    if (arrived === 3) held?.();
  });
  t.teardown(() => server.close());
  const c = new RawHttpConnection("127.0.0.1", server.port);
  t.teardown(() => c.close());
  const statuses = [
    c.request("GET", "/slow/201"),
    c.request("PUT", "/a/202", "{}", "application/json"),
    c.request("GET", "/b/203"),
  ];
  t.is(c.pending, 3);
  // Node's server answers a pipelined request only after those before it, so
  // the slow first one holds the others back, and each settles with its own status.
  t.deepEqual(await Promise.all(statuses), [201, 202, 203]);
  t.is(c.pending, 0);
  t.is(server.connections(), 1);
});

test("a failing connection fails every request in flight, and the next request reconnects", async (t) => {
  let answered = 0;
  const server = await serve((req, res) => {
    // The second request is answered with a close: the third, behind it, is never answered.
    if (req.url === "/close") {
      res.writeHead(200, { "content-length": 0, connection: "close" });
      res.end();
      return;
    }
    answered++;
    res.writeHead(200, { "content-length": 0 });
    res.end();
  });
  t.teardown(() => server.close());
  const c = new RawHttpConnection("127.0.0.1", server.port);
  t.teardown(() => c.close());
  const results = await Promise.allSettled([
    c.request("GET", "/first"),
    c.request("GET", "/close"),
    c.request("GET", "/behind"),
  ]);
  t.deepEqual(
    results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message)),
    [200, 200, "the server closed the connection with requests unanswered"],
  );
  t.is(c.pending, 0);
  t.is(await c.request("GET", "/again"), 200);
  t.is(server.connections(), 2);
  t.true(answered >= 2);
});

test("a stalled pipeline fails all its requests once nothing has been answered for the timeout", async (t) => {
  const server = await serve(() => {});
  t.teardown(() => server.close());
  const c = new RawHttpConnection("127.0.0.1", server.port, 120);
  t.teardown(() => c.close());
  const started = Date.now();
  const results = await Promise.allSettled([c.request("GET", "/"), c.request("GET", "/")]);
  t.deepEqual(
    results.map((r) => r.status === "rejected" && (r.reason as Error).message),
    ["no answer in 120 ms", "no answer in 120 ms"],
  );
  t.true(Date.now() - started >= 110);
  t.is(c.pending, 0);
});
