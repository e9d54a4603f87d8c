import http from "node:http";
import net from "node:net";
import test from "ava";
import { coalesceWrites } from "../../transport/rest/coalesce-writes";
import { listenOnLoopback } from "../support/http-server";

/** The StreamBase methods through which a socket hands bytes to the kernel. */
const SENDS = ["writev", "writeBuffer", "writeLatin1String", "writeUtf8String", "writeAsciiString"];

/**
 * An HTTP server whose connections coalesce their writes; `handle` answers
 * each request. `sends()` counts the writes its connections handed to the
 * kernel (calls on the socket's native handle).
 */
async function serve(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  coalesce = true,
): Promise<{ port: number; sends: () => number; close: () => Promise<void> }> {
  let sends = 0;
  const server = http.createServer(handle);
  server.on("connection", (socket: net.Socket) => {
    if (coalesce) coalesceWrites(socket);
    const native = (socket as unknown as { _handle: Record<string, (...a: unknown[]) => unknown> })
      ._handle;
    for (const name of SENDS) {
      const send = native[name]!;
      native[name] = (...args: unknown[]) => {
        sends++;
        return send.apply(native, args);
      };
    }
  });
  return { ...(await listenOnLoopback(server)), sends: () => sends };
}

/** A raw client: sends `requests` in one write and collects the chunks it reads until `done` says stop. */
function exchange(
  port: number,
  requests: string,
  done: (received: string) => boolean,
): Promise<{ chunks: string[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const socket = net.connect({ port, host: "127.0.0.1" }, () => socket.write(requests));
    socket.setEncoding("latin1");
    const finish = (ended: boolean) => {
      socket.destroy();
      resolve({ chunks, ended });
    };
    socket.on("data", (chunk: string) => {
      chunks.push(chunk);
      if (done(chunks.join(""))) finish(false);
    });
    socket.on("end", () => finish(true));
    socket.on("error", reject);
  });
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nhost: x\r\n${extra}\r\n`;
const answers = (s: string) => s.split("HTTP/1.1 ").length - 1;

test("pipelined answers completed in one turn leave in one send, in request order", async (t) => {
  // Every answer is ready at once (in the turn that reads the requests).
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { "content-length": req.url!.length });
    res.end(req.url);
  };
  const paths = Array.from({ length: 20 }, (_, i) => `/${i}`);
  const requests = paths.map((p) => get(p)).join("");
  for (const coalesce of [true, false]) {
    const server = await serve(answer, coalesce);
    const { chunks } = await exchange(server.port, requests, (r) => answers(r) === 20);
    const bodies = [...chunks.join("").matchAll(/\r\n\r\n(\/\d+)/g)].map((m) => m[1]);
    t.deepEqual(bodies, paths);
    // Without coalescing, Node's server sends each pipelined answer on its own.
    t.is(server.sends(), coalesce ? 1 : 20, coalesce ? "coalesced" : "plain");
    await server.close();
  }
});

test("answers settled later, in separate turns, still all arrive in order", async (t) => {
  // Each answer waits a different time, so they complete in separate turns.
  const server = await serve((req, res) => {
    const n = Number(req.url!.slice(1));
    setTimeout(
      () => {
        res.writeHead(200, { "content-length": String(n).length });
        res.end(String(n));
      },
      (5 - n) * 5,
    );
  });
  t.teardown(() => server.close());
  const { chunks } = await exchange(
    server.port,
    [0, 1, 2, 3, 4].map((n) => get(`/${n}`)).join(""),
    (r) => answers(r) === 5,
  );
  const received = chunks.join("");
  const bodies = [...received.matchAll(/\r\n\r\n(\d)/g)].map((m) => m[1]);
  t.deepEqual(bodies, ["0", "1", "2", "3", "4"]);
});

test("a large answer to a client that does not read is not reported written until it is", async (t) => {
  // 8 MiB: far beyond the socket's high-water mark and the kernel's buffers on loopback.
  const size = 8 << 20;
  let finished: () => void;
  const finishedPromise = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let sampled: (finishedEarly: boolean) => void;
  const finishedEarly = new Promise<boolean>((resolve) => {
    sampled = resolve;
  });
  const server = await serve((_req, res) => {
    res.writeHead(200, { "content-length": size });
    res.end(Buffer.alloc(size, 0x61));
    res.on("finish", () => finished());
    // 200 ms on, the held bytes have long been handed to the kernel, which
    // cannot take them all while the client reads nothing: the answer must
    // not be reported written yet.
    setTimeout(() => sampled(res.writableFinished), 200);
  });
  t.teardown(() => server.close());
  const socket = net.connect({ port: server.port, host: "127.0.0.1" });
  socket.pause();
  socket.write(get("/big"));
  t.false(await finishedEarly, "the answer was reported written while the client read nothing");
  // Now read it all: every byte arrives and the write completes.
  let received = 0;
  const headEnd = new Promise<void>((resolve) => {
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      if (head.indexOf("\r\n\r\n") < 0) {
        head += chunk.toString("latin1");
        const at = head.indexOf("\r\n\r\n");
        if (at >= 0) received += head.length - at - 4;
      } else received += chunk.length;
      if (received >= size) resolve();
    });
  });
  socket.resume();
  await headEnd;
  await finishedPromise;
  t.is(received, size);
  socket.destroy();
});

/**
 * Pipelines `count` requests for `size` bytes each at a client that reads
 * nothing, one request to a write every millisecond (Node's server pauses
 * reading only between reads), and returns how many the server answered
 * before it stopped making progress.
 */
async function answeredUnread(coalesce: boolean, count: number, size: number): Promise<number> {
  let handled = 0;
  const body = Buffer.alloc(size, 0x62);
  const server = await serve((_req, res) => {
    handled++;
    res.writeHead(200, { "content-length": body.length });
    res.end(body);
  }, coalesce);
  const socket = net.connect({ port: server.port, host: "127.0.0.1" });
  socket.pause();
  for (let i = 0; i < count; i++) {
    socket.write(get(`/${i}`));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  let last = -1;
  const deadline = Date.now() + 5_000;
  while (handled !== last && Date.now() < deadline) {
    last = handled;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  socket.destroy();
  await server.close();
  return handled;
}

test("a client that pipelines and does not read is pushed back as by a plain socket", async (t) => {
  // 12 KiB answers are under the high-water mark: each alone is reported
  // written at once. Once the kernel's buffers are full, the bytes still
  // being written must count, or every answer would pile up in the server.
  const count = 1_000;
  const size = 12 << 10;
  const plain = await answeredUnread(false, count, size);
  const coalesced = await answeredUnread(true, count, size);
  t.log(`answered before stopping: plain ${plain}, coalesced ${coalesced} of ${count}`);
  t.true(plain < count);
  t.true(coalesced > 0);
  t.true(coalesced <= plain + 2, `coalesced ${coalesced} > plain ${plain}`);
});

test("an answer that closes the connection arrives whole before the end of the stream", async (t) => {
  const body = "z".repeat(50_000);
  const server = await serve((_req, res) => {
    res.writeHead(200, { "content-length": body.length, connection: "close" });
    res.end(body);
  });
  t.teardown(() => server.close());
  const { chunks, ended } = await exchange(server.port, get("/"), () => false);
  t.true(ended);
  const received = chunks.join("");
  t.true(received.startsWith("HTTP/1.1 200"));
  t.is(received.slice(received.indexOf("\r\n\r\n") + 4), body);
});

test("the 400 that Node's server writes before dropping an unparsable request still arrives", async (t) => {
  for (const coalesce of [true, false]) {
    const server = await serve(() => t.fail("no request to handle"), coalesce);
    const { chunks, ended } = await exchange(server.port, "NOT HTTP\r\n\r\n", () => false);
    t.true(ended);
    t.regex(chunks.join(""), /^HTTP\/1\.1 400 Bad Request\r\n/, coalesce ? "coalesced" : "plain");
    await server.close();
  }
});
