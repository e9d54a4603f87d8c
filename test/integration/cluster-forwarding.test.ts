/**
 * Writes forwarded by a follower while the leader freezes or dies under them:
 * every request answers in time (200, or 503 "outcome unknown"), never a
 * wrong answer, and a retry under the same request id is applied once.
 */
import anyTest, { type ExecutionContext, type TestFn } from "ava";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const test = anyTest.serial as TestFn<{ cluster: TestCluster }>;

const TIMEOUT_MS = 2_000;
/** What an answer may take beyond the request timeout (retry backoff, scheduling). */
const SLACK_MS = 1_500;
const WRITERS = 16;
const INCREMENTS = 25;

test.before(async (t) => {
  t.context.cluster = await TestCluster.start({
    nodes: 3,
    extraArgs: ["--request-timeout-ms", String(TIMEOUT_MS)],
  });
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

interface Tally {
  answered: number;
  unknown: number;
  slowest: number;
  readonly problems: string[];
}

/**
 * One client: increments its own counter INCREMENTS times through `url`,
 * with exactly-once ids; a 503 is retried under the same id until it is
 * answered. The i-th increment must answer i, whichever attempt gets through.
 */
async function writer(url: string, name: string, tally: Tally): Promise<void> {
  for (let id = 1; id <= INCREMENTS; id++) {
    const giveUp = Date.now() + 30_000;
    for (;;) {
      const started = Date.now();
      const answer = await request(
        "POST",
        `${url}/v1/kv/${name}/incr`,
        { by: 1 },
        { "X-Paxlog-Client-Id": name, "X-Paxlog-Request-Id": String(id) },
      ).catch((error: Error) => ({ status: 0, body: { error: error.message } }));
      const ms = Date.now() - started;
      tally.slowest = Math.max(tally.slowest, ms);
      if (ms > TIMEOUT_MS + SLACK_MS) tally.problems.push(`${name}#${id}: answered after ${ms} ms`);
      if (answer.status === 200) {
        if (answer.body.value !== String(id))
          tally.problems.push(`${name}#${id}: answered ${answer.body.value}`);
        tally.answered++;
        break;
      }
      if (answer.status !== 503 || answer.body.code !== "UNAVAILABLE") {
        tally.problems.push(`${name}#${id}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return;
      }
      tally.unknown++;
      if (Date.now() > giveUp) {
        tally.problems.push(`${name}#${id}: still 503 after 30 s`);
        return;
      }
    }
  }
}

/** Runs the writers through a follower and applies `fault` to the leader once they are going. */
async function forwardThrough(
  t: ExecutionContext<{ cluster: TestCluster }>,
  prefix: string,
  fault: (leader: number) => Promise<void>,
  recover: (leader: number) => Promise<void>,
): Promise<void> {
  const c = t.context.cluster;
  const leader = await c.leader();
  const via = c.replicas.find((r) => r.id !== leader && r.process)!;
  const tally: Tally = { answered: 0, unknown: 0, slowest: 0, problems: [] };
  const names = Array.from({ length: WRITERS }, (_, i) => `${prefix}-${i}`);
  const writers = Promise.all(names.map((name) => writer(via.url, name, tally)));
  await waitFor(() => tally.answered >= 40 || tally.problems.length > 0, {
    timeoutMs: 20_000,
    message: "forwarded writes flow",
  });
  await fault(leader);
  const atFault = tally.answered;
  await waitFor(() => tally.answered >= atFault + 40 || tally.problems.length > 0, {
    timeoutMs: 20_000,
    message: "forwarded writes flow again after the fault",
  });
  await recover(leader);
  await writers;
  t.log(
    `${tally.answered} increments through replica ${via.id}, ${tally.unknown} answers "outcome unknown" retried, slowest ${tally.slowest} ms`,
  );
  t.deepEqual(tally.problems, []);
  t.is(tally.answered, WRITERS * INCREMENTS);
  for (const name of names) {
    const read = await getJson(`${via.url}/v1/kv/${name}`);
    t.is(read.body.value, String(INCREMENTS), `${name}: every increment applied exactly once`);
  }
}

test("the leader frozen under forwarded writes: answers in time, each increment applied once", async (t) => {
  const c = t.context.cluster;
  await forwardThrough(
    t,
    "frozen",
    async (leader) => c.pause(leader),
    async (leader) => c.resume(leader),
  );
});

test("the leader killed under forwarded writes: answers in time, each increment applied once", async (t) => {
  const c = t.context.cluster;
  await forwardThrough(
    t,
    "killed",
    (leader) => c.kill(leader),
    (leader) => c.restart(leader),
  );
});
