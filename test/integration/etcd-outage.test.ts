/** etcd outages (SIGSTOP / SIGCONT): no crash, health events, full recovery. */

import test from "ava";
import type { EtcdHealth } from "../../transport/etcd/health";
import {
  agreedLeader,
  allSeeMembers,
  makeCoordinator,
  startCoordinators,
  uniqueCluster,
} from "../support/coordinators";
import { startEtcd } from "../support/etcd";
import { waitFor } from "../support/wait";

const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => unhandled.push(reason));

test.serial(
  "etcd frozen longer than the TTL: health events, then everything restored",
  async (t) => {
    const etcd = await startEtcd();
    const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2, 3]).catch(
      async (err) => {
        await etcd.stop();
        throw err;
      },
    );
    t.teardown(async () => {
      try {
        etcd.resume();
      } catch {
        // not running
      }
      await Promise.all(cs.map((c) => c.stop()));
      await etcd.stop();
    });
    await waitFor(() => allSeeMembers(cs, [1, 2, 3]) && agreedLeader(cs), {
      timeoutMs: 3_000,
      message: "initial agreement",
    });
    const incarnations = cs.map((c) => c.incarnation);
    const health = new Map<number, boolean[]>(cs.map((c) => [c.nodeId, []]));
    for (const c of cs)
      c.on("etcdHealth", (h: EtcdHealth) => health.get(c.nodeId)!.push(h.reachable));

    const frozenAt = Date.now();
    etcd.pause();
    await waitFor(() => cs.every((c) => c.etcdReachable === false), {
      timeoutMs: 5_000,
      message: "every coordinator reports etcd unreachable",
    });
    t.log(`unreachable reported by all after ${Date.now() - frozenAt} ms`);
    // keep it frozen past 2x TTL: etcd3 gives leases up client-side, etcd expires them
    await waitFor(() => Date.now() - frozenAt >= 3_000, { timeoutMs: 4_000, intervalMs: 50 });
    // meanwhile the API fails fast and cleanly
    await t.throwsAsync(() => cs[0]!.allocateRound(), { name: "CoordinationError" });
    etcd.resume();
    const resumedAt = Date.now();

    await waitFor(
      () =>
        cs.every((c) => c.etcdReachable === true) &&
        allSeeMembers(cs, [1, 2, 3]) &&
        agreedLeader(cs) !== undefined,
      { timeoutMs: 10_000, message: "members and leader restored" },
    );
    t.log(`membership and leader restored ${Date.now() - resumedAt} ms after SIGCONT`);
    for (const c of cs) {
      const seq = health.get(c.nodeId)!;
      t.deepEqual(seq.slice(0, 2), [false, true], `node ${c.nodeId} health events: ${seq}`);
      t.is(seq.at(-1), true);
    }
    t.deepEqual(
      cs.map((c) => c.members.get(c.nodeId)?.incarnation),
      incarnations,
      "re-registered with the same incarnation",
    );
    t.true((await cs[1]!.allocateRound()) > 0);
    t.deepEqual(unhandled, [], "no unhandled rejections");
  },
);

test.serial("start() waits out an unreachable etcd", async (t) => {
  const etcd = await startEtcd();
  const c = makeCoordinator(etcd.endpoints, uniqueCluster(), 1);
  t.teardown(async () => {
    try {
      etcd.resume();
    } catch {
      // not running
    }
    await c.stop();
    await etcd.stop();
  });
  const events: boolean[] = [];
  c.on("etcdHealth", (h) => events.push(h.reachable));
  etcd.pause();
  const starting = c.start();
  await waitFor(() => events.includes(false), { timeoutMs: 5_000, message: "unreachable event" });
  etcd.resume();
  await starting;
  t.is(c.incarnation, 1);
  t.deepEqual([...c.members.keys()], [1]);
  t.is(c.leader, 1);
  t.deepEqual(unhandled, []);
});

test.serial("stop() during a start that cannot reach etcd rejects start, no crash", async (t) => {
  const c = makeCoordinator(["http://127.0.0.1:1"], uniqueCluster(), 1, { callTimeoutMs: 200 });
  const starting = c.start();
  await waitFor(() => c.etcdReachable === false, { timeoutMs: 3_000, message: "unreachable" });
  await c.stop();
  await t.throwsAsync(starting, { name: "CoordinatorStoppedError" });
  t.deepEqual(unhandled, []);
});
