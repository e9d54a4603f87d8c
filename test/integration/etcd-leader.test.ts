/** Leader hint (etcd3 Election recipe) against a real etcd (lease TTL 1 s). */

import test from "ava";
import { Etcd3 } from "etcd3";
import type { Coordinator } from "../../transport/etcd/coordinator";
import { agreedLeader, startCoordinators, uniqueCluster } from "../support/coordinators";
import { type EtcdServer, startEtcd } from "../support/etcd";
import { waitFor } from "../support/wait";

let etcd: EtcdServer;

test.before(async () => {
  etcd = await startEtcd();
});

test.after.always(async () => {
  await etcd?.stop();
});

/** The leader according to etcd itself: value of the lowest create revision under leader/. */
async function leaderInEtcd(cs: Coordinator[]): Promise<number | null> {
  const admin = new Etcd3({ hosts: etcd.endpoints });
  try {
    const prefix = `${cs[0]!.keys.root}${cs[0]!.keys.leaderPrefix}`;
    const res = await admin.getAll().prefix(prefix).sort("Create", "Ascend").limit(1).exec();
    const kv = res.kvs[0];
    return kv ? Number(kv.value.toString()) : null;
  } finally {
    admin.close();
  }
}

test.serial("3 campaigners: one leader, reported by all; failover on crash", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2, 3]);
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));

  // candidates campaigned back to back with observers started before any
  // leader existed: the STACK-NOTES bug scenario
  const leader = await waitFor(() => agreedLeader(cs), { timeoutMs: 3_000, message: "agreement" });
  t.is<number | null, number | null>(
    leader,
    await leaderInEtcd(cs),
    "the hint is the lowest create revision",
  );
  t.true([1, 2, 3].includes(leader));

  const byId = new Map(cs.map((c) => [c.nodeId, c]));
  const survivors = cs.filter((c) => c.nodeId !== leader);
  const changes: Array<number | null> = [];
  survivors[0]!.on("leader", (l) => changes.push(l));

  const t0 = Date.now();
  await byId.get(leader)!.crash();
  const next = await waitFor(
    () => {
      const l = agreedLeader(survivors);
      return l !== undefined && l !== leader ? l : undefined;
    },
    { timeoutMs: 4_000, message: "survivors agree on a new leader" },
  );
  const failoverMs = Date.now() - t0;
  t.log(`leader ${leader} crashed; survivors agree on ${next} after ${failoverMs} ms (TTL 1 s)`);
  t.true(failoverMs <= 2_000, `failover took ${failoverMs} ms`);
  t.is<number | null, number | null>(next, await leaderInEtcd(survivors));
  t.false(changes.includes(leader), "the crashed leader is never re-reported");
});

test.serial("a resigning leader hands over at once", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2, 3]);
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  const leader = await waitFor(() => agreedLeader(cs), { timeoutMs: 3_000, message: "agreement" });
  const survivors = cs.filter((c) => c.nodeId !== leader);
  const t0 = Date.now();
  await cs.find((c) => c.nodeId === leader)!.stop();
  const next = await waitFor(
    () => {
      const l = agreedLeader(survivors);
      return l !== undefined && l !== leader ? l : undefined;
    },
    { timeoutMs: 1_000, message: "new leader after resign" },
  );
  t.log(`leader ${leader} resigned; survivors agree on ${next} after ${Date.now() - t0} ms`);
  t.is<number | null, number | null>(next, await leaderInEtcd(survivors));
});

test.serial("an observer (campaign: false) follows the leader without candidacy", async (t) => {
  const cluster = uniqueCluster();
  const [observer] = await startCoordinators(etcd.endpoints, cluster, [9], { campaign: false });
  t.teardown(() => observer!.stop());
  t.is(observer!.leader, null);
  const cs = await startCoordinators(etcd.endpoints, cluster, [1, 2]);
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  const leader = await waitFor(() => agreedLeader([...cs, observer!]), {
    timeoutMs: 3_000,
    message: "observer agrees",
  });
  t.not(leader, 9);
});

test("stepBack hands the hint to another candidate at once, and campaigns again after the delay", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster("stepback"), [1, 2, 3]);
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  const first = await waitFor(() => agreedLeader(cs), { timeoutMs: 5_000, message: "a leader" });
  const leaving = cs.find((c) => c.nodeId === first)!;
  const started = Date.now();
  await leaving.stepBack(1_500);
  const second = await waitFor(
    () => {
      const l = agreedLeader(cs);
      return l !== undefined && l !== first ? l : undefined;
    },
    { timeoutMs: 3_000, message: "another leader after stepBack" },
  );
  const handover = Date.now() - started;
  t.log(`hint moved from ${first} to ${second} in ${handover} ms`);
  t.true(handover < 1_500, "before the stepped-back node could campaign again");
  // The stepped-back node is a candidate again: once the others leave, it leads.
  await Promise.all(cs.filter((c) => c !== leaving).map((c) => c.stop()));
  await waitFor(() => leaving.leader === first, {
    timeoutMs: 6_000,
    message: "the stepped-back node campaigns again and is elected",
  });
  t.is(leaving.leader, first);
});
