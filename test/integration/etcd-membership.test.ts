/** Membership / failure detection against a real etcd (lease TTL 1 s). */

import test from "ava";
import type { MemberMap } from "../../transport/etcd/membership";
import {
  allSeeMembers,
  makeCoordinator,
  startCoordinators,
  uniqueCluster,
} from "../support/coordinators";
import { type EtcdServer, startEtcd } from "../support/etcd";
import { waitFor } from "../support/wait";

let etcd: EtcdServer;

test.before(async () => {
  etcd = await startEtcd();
});

test.after.always(async () => {
  await etcd?.stop();
});

test.serial("members see each other, a crashed one disappears within TTL+1 s", async (t) => {
  const cluster = uniqueCluster();
  const cs = await startCoordinators(etcd.endpoints, cluster, [1, 2, 3]);
  const extra: Array<{ stop(): Promise<void> }> = [];
  t.teardown(() => Promise.all([...cs, ...extra].map((c) => c.stop())));

  await waitFor(() => allSeeMembers(cs, [1, 2, 3]), { timeoutMs: 3_000, message: "all see 3" });
  const info = cs[0]!.members.get(2)!;
  t.is(info.id, 2);
  t.is(info.incarnation, cs[1]!.incarnation);
  t.is(info.grpcAddress, "127.0.0.1:7002");
  t.is(info.restUrl, "http://127.0.0.1:8002");
  t.true(Number.isFinite(Date.parse(info.startedAt)));

  // every change is emitted as a full map
  const maps: MemberMap[] = [];
  cs[0]!.on("members", (m) => maps.push(m));

  const [survivorA, victim, survivorB] = cs as [(typeof cs)[0], (typeof cs)[0], (typeof cs)[0]];
  const oldIncarnation = victim.incarnation;
  const t0 = Date.now();
  await victim.crash(); // no revoke: etcd learns only by lease expiry
  await waitFor(() => allSeeMembers([survivorA, survivorB], [1, 3]), {
    timeoutMs: 4_000,
    message: "survivors drop node 2",
  });
  const suspicionMs = Date.now() - t0;
  t.log(`crashed member gone from every survivor's view after ${suspicionMs} ms (TTL 1 s)`);
  t.true(suspicionMs <= 2_000, `suspicion took ${suspicionMs} ms`);
  t.deepEqual([...maps.at(-1)!.keys()].sort(), [1, 3]);

  // the same node restarts: recognisably new
  const restarted = makeCoordinator(etcd.endpoints, cluster, 2);
  extra.push(restarted);
  await restarted.start();
  t.true(restarted.incarnation > oldIncarnation);
  await waitFor(() => allSeeMembers([survivorA, survivorB, restarted], [1, 2, 3]), {
    timeoutMs: 3_000,
    message: "restarted node seen",
  });
  t.is(survivorA.members.get(2)?.incarnation, restarted.incarnation);
  t.is(survivorB.members.get(2)?.incarnation, restarted.incarnation);
});

test.serial("a clean stop removes the member at once", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2]);
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  await waitFor(() => allSeeMembers(cs, [1, 2]), { timeoutMs: 3_000, message: "both seen" });
  const t0 = Date.now();
  await cs[1]!.stop();
  await cs[1]!.stop(); // idempotent
  await waitFor(() => allSeeMembers([cs[0]!], [1]), { timeoutMs: 1_000, message: "node 2 gone" });
  t.log(`cleanly stopped member gone after ${Date.now() - t0} ms`);
  await t.throwsAsync(() => cs[1]!.allocateRound(), { name: "CoordinatorStoppedError" });
});

test.serial("a revoked lease is re-granted and the member re-registered", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2]);
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  await waitFor(() => allSeeMembers(cs, [1, 2]), { timeoutMs: 3_000, message: "both seen" });
  const { Etcd3 } = await import("etcd3");
  const admin = new Etcd3({ hosts: etcd.endpoints });
  t.teardown(() => admin.close());
  const key = `${cs[1]!.keys.root}${cs[1]!.keys.member(2)}`;
  const before = await admin.get(key).exec();
  const leaseId = before.kvs[0]!.lease;
  await admin.leaseClient.leaseRevoke({ ID: leaseId });
  // the key goes, then comes back under a new lease with the same incarnation
  await waitFor(
    async () => {
      const now = (await admin.get(key).exec()).kvs[0];
      return now !== undefined && now.lease !== leaseId;
    },
    { timeoutMs: 5_000, message: "re-registration under a new lease" },
  );
  await waitFor(() => allSeeMembers(cs, [1, 2]), { timeoutMs: 3_000, message: "both seen again" });
  t.is(cs[0]!.members.get(2)?.incarnation, cs[1]!.incarnation);
});
