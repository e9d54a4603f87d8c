/**
 * Forwarding: followers' client commands to the leader and its answers, in
 * the peers' batches next to Paxos messages; correlated, bounded, and never
 * crossing into a restarted follower's life.
 */
import test, { type ExecutionContext } from "ava";
import { type Message, nodeId } from "../../consensus";
import { ForwardError, type ForwardReply, type ForwardRequest } from "../../transport/grpc/forward";
import { PeerTransport, type PeerTransportOptions } from "../../transport/grpc/peer-transport";
import { createLogger } from "../../transport/log";
import { freePort } from "../support/ports";
import { waitFor } from "../support/wait";

const log = createLogger({ level: "silent" });
const n1 = nodeId(1);
const n2 = nodeId(2);

/** A forwarded command the leader's handler holds until the test answers it. */
interface Held {
  readonly request: ForwardRequest;
  readonly answer: (reply: ForwardReply) => void;
}

interface Pair {
  /** The follower (forwards) and the leader (answers). */
  readonly follower: PeerTransport;
  readonly leader: PeerTransport;
  readonly held: Held[];
  /** Paxos messages each side received. */
  readonly toLeader: Message[];
  readonly toFollower: Message[];
  readonly addresses: ReadonlyMap<number, string>;
}

/** Answers "done:<command>" at index 7, unless `hold` says to keep it for the test. */
async function pair(
  t: ExecutionContext,
  options: PeerTransportOptions = {},
  hold: (request: ForwardRequest) => boolean = () => false,
): Promise<Pair> {
  const addresses = new Map([
    [n1, `127.0.0.1:${await freePort()}`],
    [n2, `127.0.0.1:${await freePort()}`],
  ]);
  const held: Held[] = [];
  const toLeader: Message[] = [];
  const toFollower: Message[] = [];
  const follower = new PeerTransport(
    n1,
    addresses,
    {
      onMessages: (messages) => toFollower.push(...messages),
      onFetchSnapshot: () => null,
      onForward: async () => ({ outcome: "notLeader", notLeader: 2 }),
    },
    log,
    options,
  );
  const leader = new PeerTransport(
    n2,
    addresses,
    {
      onMessages: (messages) => toLeader.push(...messages),
      onFetchSnapshot: () => null,
      onForward: (request) =>
        hold(request)
          ? new Promise((answer) => held.push({ request, answer }))
          : Promise.resolve(done(request.command)),
    },
    log,
  );
  await follower.start(addresses.get(n1)!);
  await leader.start(addresses.get(n2)!);
  t.teardown(() => Promise.all([follower.close(), leader.close()]));
  return { follower, leader, held, toLeader, toFollower, addresses };
}

const done = (command: Uint8Array): ForwardReply => ({
  outcome: "result",
  result: Buffer.from(`done:${Buffer.from(command)}`),
  index: 7,
});

const text = (reply: ForwardReply): string =>
  reply.outcome === "result" ? Buffer.from(reply.result).toString() : reply.outcome;

/** Forwards fail fast while the stream connects (the replica retries): retry the same way. */
async function warmUp(p: Pair): Promise<void> {
  await waitFor(() => p.follower.forward(n2, Buffer.from("warm-up"), 1_000).catch(() => null), {
    timeoutMs: 10_000,
    intervalMs: 50,
    message: "the forward stream answers",
  });
}

const forwardStats = (p: Pair) => p.follower.stats().find((s) => s.peer === n2)!.forwards;
const linkStats = (side: PeerTransport, peer: number) => side.stats().find((s) => s.peer === peer)!;

const accepted = (from: number, to: number, index: number): Message => ({
  type: "accepted",
  from: nodeId(from),
  to: nodeId(to),
  ballot: { round: 1, nodeId: 2 },
  index,
});

test("a turn's Paxos messages and forwards to a peer leave as one batch, and so do the answers", async (t) => {
  const p = await pair(t, {}, (request) => Buffer.from(request.command).toString() !== "warm-up");
  await warmUp(p);
  const before = { follower: linkStats(p.follower, 2), leader: linkStats(p.leader, 1) };
  // The same turn: a vote and two forwarded commands for the leader.
  p.follower.send([accepted(1, 2, 5)]);
  const replies = [
    p.follower.forward(n2, Buffer.from("put a"), 5_000),
    p.follower.forward(n2, Buffer.from("put b"), 5_000),
  ];
  await waitFor(() => p.held.length === 2 && p.toLeader.length === 1, {
    timeoutMs: 5_000,
    message: "the vote and both commands reach the leader",
  });
  t.is(linkStats(p.follower, 2).batchesSent - before.follower.batchesSent, 1, "one batch sent");
  t.is(linkStats(p.leader, 1).batchesReceived - before.leader.batchesReceived, 1, "one received");
  // The leader's turn: a message back and both answers.
  p.leader.send([accepted(2, 1, 6)]);
  for (const h of p.held) h.answer(done(h.request.command));
  t.deepEqual((await Promise.all(replies)).map(text), ["done:put a", "done:put b"]);
  await waitFor(() => p.toFollower.length === 1, { timeoutMs: 5_000, message: "the message" });
  t.deepEqual(p.toFollower, [accepted(2, 1, 6)]);
  t.is(linkStats(p.leader, 1).batchesSent - before.leader.batchesSent, 1, "one batch back");
  t.is(linkStats(p.follower, 2).batchesReceived - before.follower.batchesReceived, 1);
});

test.serial("a restarted follower never takes an answer meant for its previous life", async (t) => {
  const p = await pair(t, {}, (request) => Buffer.from(request.command).toString() !== "warm-up");
  await warmUp(p);
  // Its first life forwards "old" (id 2, after the warm-up) and goes away unanswered.
  const old = p.follower.forward(n2, Buffer.from("old"), 60_000);
  await waitFor(() => p.held.length === 1, { timeoutMs: 5_000, message: "old is held" });
  await p.follower.close();
  await t.throwsAsync(old, { instanceOf: ForwardError });
  // Its next life, on the same address, forwards "new" under the same id.
  const again = new PeerTransport(
    n1,
    p.addresses as Map<typeof n1, string>,
    {
      onMessages: () => {},
      onFetchSnapshot: () => null,
      onForward: async () => done(Buffer.from("")),
    },
    log,
  );
  await again.start(p.addresses.get(n1)!);
  t.teardown(() => again.close());
  await warmUp({ ...p, follower: again });
  const fresh = again.forward(n2, Buffer.from("new"), 10_000);
  await waitFor(() => p.held.length === 2, { timeoutMs: 5_000, message: "new is held" });
  const dropped = linkStats(p.leader, 1).repliesDropped;
  p.held[0]!.answer(done(p.held[0]!.request.command));
  await waitFor(() => linkStats(p.leader, 1).repliesDropped > dropped, {
    timeoutMs: 5_000,
    message: "the leader drops the answer to the old life",
  });
  p.held[1]!.answer(done(p.held[1]!.request.command));
  t.is(text(await fresh), "done:new");
});

test("a forwarded command reaches the leader's handler and each outcome comes back", async (t) => {
  const seen: ForwardRequest[] = [];
  const outcomes: ForwardReply[] = [
    { outcome: "notLeader", notLeader: 3 },
    { outcome: "timeout", timeout: "not decided in time" },
  ];
  const p = await pair(t, {}, (request) => {
    seen.push(request);
    return Buffer.from(request.command).toString() !== "warm-up";
  });
  await warmUp(p);
  const replies = [
    p.follower.forward(n2, Buffer.from("incr x"), 1_500),
    p.follower.forward(n2, Buffer.from("put y"), 1_500),
    p.follower.forward(n2, Buffer.from("del z"), 1_500),
  ];
  await waitFor(() => p.held.length === 3, { timeoutMs: 5_000, message: "3 forwards held" });
  p.held[0]!.answer(done(p.held[0]!.request.command));
  p.held[1]!.answer(outcomes[0]!);
  p.held[2]!.answer(outcomes[1]!);
  const [result, notLeader, timeout] = await Promise.all(replies);
  t.deepEqual(
    { ...result!, result: text(result!) },
    { outcome: "result", result: "done:incr x", index: 7 },
  );
  t.deepEqual(notLeader, outcomes[0]);
  t.deepEqual(timeout, outcomes[1]);
  const last = seen[seen.length - 1]!;
  t.is(last.via, 1, "the leader learns who forwarded it");
  t.is(last.timeoutMs, 1_500, "and how long the forwarder waits");
});

test("forwards of one turn travel in one message, answers of one turn come back in one", async (t) => {
  const count = 40;
  const p = await pair(t, {}, (request) => Buffer.from(request.command).toString() !== "warm-up");
  await warmUp(p);
  const before = forwardStats(p);
  const replies = Array.from({ length: count }, (_, i) =>
    p.follower.forward(n2, Buffer.from(`cmd-${i}`), 5_000),
  );
  await waitFor(() => p.held.length === count, {
    timeoutMs: 5_000,
    message: `${count} forwards reach the leader`,
  });
  // Answered in the reverse order, in one turn: each must still find its own caller.
  for (const h of [...p.held].reverse()) h.answer(done(h.request.command));
  const answers = (await Promise.all(replies)).map(text);
  t.deepEqual(
    answers,
    Array.from({ length: count }, (_, i) => `done:cmd-${i}`),
  );
  const after = forwardStats(p);
  t.is(after.batchesSent - before.batchesSent, 1, "one message carried every forward");
  t.is(after.replyBatchesReceived - before.replyBatchesReceived, 1, "one message every answer");
  t.is(after.inFlight, 0);
});

test("forwards beyond the in-flight bound fail fast, unsent; answers free the bound", async (t) => {
  const p = await pair(
    t,
    { maxForwardsInFlight: 4 },
    (request) => Buffer.from(request.command).toString() !== "warm-up",
  );
  await warmUp(p);
  const replies = Array.from({ length: 4 }, (_, i) =>
    p.follower.forward(n2, Buffer.from(`cmd-${i}`), 10_000),
  );
  const refused = await t.throwsAsync(p.follower.forward(n2, Buffer.from("one too many"), 10_000), {
    instanceOf: ForwardError,
  });
  t.false(refused.unknown, "refused before sending: the outcome is known (not applied)");
  await waitFor(() => p.held.length === 4, { timeoutMs: 5_000, message: "4 forwards held" });
  p.held[0]!.answer(done(p.held[0]!.request.command));
  t.is(text(await replies[0]!), "done:cmd-0");
  const next = p.follower.forward(n2, Buffer.from("next"), 10_000);
  await waitFor(() => p.held.length === 5, { timeoutMs: 5_000, message: "the next one is sent" });
  for (const h of p.held.slice(1)) h.answer(done(h.request.command));
  t.is(text(await next), "done:next");
  await Promise.all(replies);
  t.false(
    p.held.some((h) => Buffer.from(h.request.command).toString() === "one too many"),
    "the refused forward never reached the leader",
  );
});

test("command bytes in flight are bounded too; a lone command larger than the bound still goes", async (t) => {
  const p = await pair(
    t,
    { maxForwardBytesInFlight: 100 },
    (request) => Buffer.from(request.command).toString() !== "warm-up",
  );
  await warmUp(p);
  const first = p.follower.forward(n2, Buffer.alloc(80, "a"), 10_000);
  const refused = await t.throwsAsync(p.follower.forward(n2, Buffer.alloc(80, "b"), 10_000), {
    instanceOf: ForwardError,
  });
  t.false(refused.unknown);
  await waitFor(() => p.held.length === 1, { timeoutMs: 5_000, message: "the first is held" });
  p.held[0]!.answer(done(p.held[0]!.request.command));
  await first;
  const large = p.follower.forward(n2, Buffer.alloc(200, "c"), 10_000);
  await waitFor(() => p.held.length === 2, { timeoutMs: 5_000, message: "the large one is sent" });
  p.held[1]!.answer(done(p.held[1]!.request.command));
  t.is(text(await large), `done:${"c".repeat(200)}`);
});

test("a turn of large forwards leaves in several messages of bounded size", async (t) => {
  const p = await pair(t);
  await warmUp(p);
  const before = forwardStats(p);
  const size = 1.5 * 1024 * 1024;
  const replies = Array.from({ length: 5 }, (_, i) =>
    p.follower.forward(n2, Buffer.alloc(size, 65 + i), 10_000),
  );
  const answers = await Promise.all(replies);
  answers.forEach((answer, i) => {
    t.is(answer.outcome, "result");
    if (answer.outcome === "result") {
      t.is(answer.result.byteLength, size + 5);
      t.is(answer.result[size + 4], 65 + i, "each answer reached its own caller");
    }
  });
  const after = forwardStats(p);
  t.is(after.batchesSent - before.batchesSent, 3, "1.5 MiB commands, at most 4 MiB per message");
  t.true(after.replyBatchesReceived - before.replyBatchesReceived >= 2, "answers split too");
});

test("a leader change fails the forwards in flight at once, as outcome unknown", async (t) => {
  const p = await pair(t, {}, (request) => Buffer.from(request.command).toString() !== "warm-up");
  await warmUp(p);
  const replies = Array.from({ length: 3 }, (_, i) =>
    p.follower.forward(n2, Buffer.from(`cmd-${i}`), 60_000),
  );
  await waitFor(() => p.held.length === 3, { timeoutMs: 5_000, message: "3 forwards held" });
  const started = Date.now();
  p.follower.abortForwardsExcept(nodeId(3), "the leader changed (now 3)");
  for (const reply of replies) {
    const error = await t.throwsAsync(reply, { instanceOf: ForwardError });
    t.true(error.unknown, "it may still be applied: outcome unknown");
    t.regex(error.message, /leader changed/);
  }
  t.true(Date.now() - started < 1_000, `failed after ${Date.now() - started} ms`);
  // Late answers from the old leader find nobody waiting; the stream still works.
  for (const h of p.held) h.answer(done(h.request.command));
  const again = p.follower.forward(n2, Buffer.from("after"), 5_000);
  await waitFor(() => p.held.length === 4, { timeoutMs: 5_000, message: "a new forward is sent" });
  p.held[3]!.answer(done(p.held[3]!.request.command));
  t.is(text(await again), "done:after");
  t.is(forwardStats(p).inFlight, 0);
});

test("the leader going away mid-flight fails its forwards as outcome unknown, not a hang", async (t) => {
  const p = await pair(t, {}, (request) => Buffer.from(request.command).toString() !== "warm-up");
  await warmUp(p);
  const reply = p.follower.forward(n2, Buffer.from("in flight"), 60_000);
  await waitFor(() => p.held.length === 1, { timeoutMs: 5_000, message: "the forward is held" });
  const started = Date.now();
  await p.leader.close();
  const error = await t.throwsAsync(reply, { instanceOf: ForwardError });
  t.true(error.unknown);
  t.true(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
  // With the leader gone, a new forward fails fast too.
  const again = Date.now();
  await t.throwsAsync(p.follower.forward(n2, Buffer.from("x"), 60_000));
  t.true(Date.now() - again < 5_000, `failed after ${Date.now() - again} ms`);
});

test("a forward nobody answers fails at its own deadline", async (t) => {
  const p = await pair(t, {}, (request) => Buffer.from(request.command).toString() !== "warm-up");
  await warmUp(p);
  const started = Date.now();
  const error = await t.throwsAsync(p.follower.forward(n2, Buffer.from("slow"), 300), {
    instanceOf: ForwardError,
  });
  const ms = Date.now() - started;
  t.true(error.unknown);
  t.true(ms >= 290 && ms < 2_000, `failed after ${ms} ms`);
  t.is(forwardStats(p).inFlight, 0);
});
