import test from "ava";
import { type Message, NOOP, nodeId, valuesEqual } from "../../consensus";
import type { PeerHandlers, SnapshotChunk } from "../../transport/grpc/peer-server";
import { PeerTransport } from "../../transport/grpc/peer-transport";
import { createLogger } from "../../transport/log";
import { freePort } from "../support/ports";
import { waitFor } from "../support/wait";

const log = createLogger({ level: "silent" });
const n1 = nodeId(1);
const n2 = nodeId(2);
const b = { round: 7, nodeId: 1 };
const LIMITS = { totalMs: 10_000, idleMs: 5_000 };
const batch = { type: "batch", commands: [Buffer.from("put a"), Buffer.from("put b")] } as const;

/** One message of every type, as the core produces them. */
const EVERY_MESSAGE: Message[] = [
  { type: "prepare", from: n1, to: n2, ballot: b, fromIndex: 5 },
  {
    type: "promise",
    from: n1,
    to: n2,
    ballot: b,
    fromIndex: 5,
    recovering: true,
    entries: [
      { index: 5, value: batch, ballot: { round: 3, nodeId: 2 } },
      { index: 6, value: NOOP, ballot: null },
    ],
  },
  {
    type: "nack",
    from: n1,
    to: n2,
    ballot: b,
    promised: { round: 9, nodeId: Number.MAX_SAFE_INTEGER },
  },
  { type: "disposed", from: n1, to: n2, index: 3, disposeBelow: 10, snapshotIndex: 8 },
  {
    type: "accept",
    from: n1,
    to: n2,
    ballot: b,
    index: 11,
    value: batch,
    horizon: 9,
    chosenIndex: 10,
  },
  { type: "accepted", from: n1, to: n2, ballot: b, index: 11 },
  {
    type: "commit",
    from: n1,
    to: n2,
    ballot: b,
    chosenIndex: 11,
    disposeBelow: 4,
    horizon: 9,
    heartbeat: true,
  },
  {
    type: "learned",
    from: n1,
    to: n2,
    incarnation: 3,
    learnedIndex: 11,
    promised: b,
    recovering: false,
  },
  { type: "catchup", from: n1, to: n2, fromIndex: 2, toIndex: 9 },
  {
    type: "catchup-reply",
    from: n1,
    to: n2,
    entries: [
      { index: 2, value: batch },
      { index: 3, value: NOOP },
    ],
    snapshotIndex: 1,
    chosenIndex: 11,
  },
];

interface Pair {
  a: PeerTransport;
  b: PeerTransport;
  received: Message[];
  addresses: Map<ReturnType<typeof nodeId>, string>;
}

function handlers(received: Message[], overrides: Partial<PeerHandlers> = {}): PeerHandlers {
  return {
    onMessages: (messages) => received.push(...messages),
    onForward: async () => ({ outcome: "notLeader", notLeader: 0 }),
    onFetchSnapshot: () => null,
    ...overrides,
  };
}

async function pair(overrides: Partial<PeerHandlers> = {}): Promise<Pair> {
  const addresses = new Map([
    [n1, `127.0.0.1:${await freePort()}`],
    [n2, `127.0.0.1:${await freePort()}`],
  ]);
  const received: Message[] = [];
  const a = new PeerTransport(n1, addresses, handlers([]), log);
  const bT = new PeerTransport(n2, addresses, handlers(received, overrides), log);
  await a.start(addresses.get(n1)!);
  await bT.start(addresses.get(n2)!);
  return { a, b: bT, received, addresses };
}

/** Messages may be dropped while the stream connects: resend until they arrive. */
async function deliver(p: Pair, messages: Message[]): Promise<void> {
  await waitFor(
    () => {
      if (p.received.length < messages.length) p.a.send(messages);
      return p.received.length >= messages.length;
    },
    { timeoutMs: 10_000, intervalMs: 50, message: "messages delivered" },
  );
}

test("every Paxos message type crosses the gRPC stream unchanged", async (t) => {
  const p = await pair();
  t.teardown(() => Promise.all([p.a.close(), p.b.close()]));
  await deliver(p, EVERY_MESSAGE);
  const got = p.received.slice(0, EVERY_MESSAGE.length);
  t.is(got.length, EVERY_MESSAGE.length);
  for (let i = 0; i < EVERY_MESSAGE.length; i++) {
    const sent = EVERY_MESSAGE[i]!;
    const recv = got[i]!;
    t.is(recv.type, sent.type);
    // Values carry Buffers after decoding: compare them by content.
    t.deepEqual(JSON.parse(JSON.stringify(recv)), JSON.parse(JSON.stringify(sent)), sent.type);
    if (sent.type === "accept" && recv.type === "accept")
      t.true(valuesEqual(recv.value, sent.value));
  }
});

test("a link reconnects after the peer restarts, and drops (never queues) while it is down", async (t) => {
  const p = await pair();
  t.teardown(() => p.a.close());
  await deliver(p, [EVERY_MESSAGE[0]!]);
  await p.b.close();
  const before = p.a.stats()[0]!.dropped;
  await waitFor(
    () => {
      p.a.send([EVERY_MESSAGE[5]!]);
      return p.a.stats()[0]!.dropped > before;
    },
    { timeoutMs: 10_000, intervalMs: 20, message: "link notices the peer is gone" },
  );
  const received: Message[] = [];
  const restarted = new PeerTransport(n2, p.addresses, handlers(received), log);
  await restarted.start(p.addresses.get(n2)!);
  t.teardown(() => restarted.close());
  await waitFor(
    () => {
      p.a.send([EVERY_MESSAGE[6]!]);
      return received.some((m) => m.type === "commit");
    },
    { timeoutMs: 10_000, intervalMs: 50, message: "messages flow again after the restart" },
  );
  t.true(received.some((m) => m.type === "commit"));
  t.true(p.a.stats()[0]!.dropped > before, "messages sent while the peer was down were dropped");
});

test("a snapshot streams in bounded chunks, in order; a missing one is an error", async (t) => {
  const chunks: SnapshotChunk[] = Array.from({ length: 5 }, (_, i) => ({
    index: 77,
    data: Buffer.alloc(1024, i),
  }));
  let serve = true;
  const p = await pair({
    onFetchSnapshot: (minIndex) =>
      serve && minIndex <= 77
        ? (async function* () {
            yield* chunks;
          })()
        : null,
  });
  t.teardown(() => Promise.all([p.a.close(), p.b.close()]));
  const got: SnapshotChunk[] = [];
  for await (const chunk of p.a.fetchSnapshot(n2, 50, LIMITS)) got.push(chunk);
  t.is(got.length, 5);
  t.deepEqual(
    got.map((c) => [c.index, Buffer.from(c.data)[0], c.data.byteLength]),
    chunks.map((_, i) => [77, i, 1024]),
  );
  serve = false;
  await t.throwsAsync(async () => {
    for await (const _ of p.a.fetchSnapshot(n2, 50, LIMITS)) {
      // consume
    }
  });
});

test("a donor that stops sending fails the fetch after the idle limit, not the whole-transfer deadline", async (t) => {
  let release: () => void = () => {};
  const p = await pair({
    onFetchSnapshot: () =>
      (async function* () {
        yield { index: 9, data: Buffer.alloc(16, 1) };
        // A donor paused mid-transfer: the stream stays open and sends nothing.
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      })(),
  });
  t.teardown(() => {
    release();
    return Promise.all([p.a.close(), p.b.close()]);
  });
  const started = Date.now();
  const got: SnapshotChunk[] = [];
  const error = await t.throwsAsync(async () => {
    for await (const chunk of p.a.fetchSnapshot(n2, 1, { totalMs: 60_000, idleMs: 300 })) {
      got.push(chunk);
    }
  });
  t.is(got.length, 1, "the chunk sent before the pause arrived");
  t.regex(error?.message ?? "", /sent no snapshot chunk for 300 ms/);
  t.true(Date.now() - started < 30_000, "gave up long before the 60 s deadline");
});
