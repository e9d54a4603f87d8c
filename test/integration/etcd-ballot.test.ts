/** Ballot counter and incarnations against a real etcd. */

import test from "ava";
import { Coordinator } from "../../transport/etcd/coordinator";
import { makeCoordinator, startCoordinators, uniqueCluster } from "../support/coordinators";
import { type EtcdServer, startEtcd } from "../support/etcd";

let etcd: EtcdServer;

test.before(async () => {
  etcd = await startEtcd();
});

test.after.always(async () => {
  await etcd?.stop();
});

test("a fresh counter reads 0 and the first round is 1", async (t) => {
  const c = makeCoordinator(etcd.endpoints, uniqueCluster(), 1);
  t.teardown(() => c.stop());
  t.is(await c.readRound(), 0);
  t.is(await c.allocateRound(), 1);
  t.is(await c.allocateRound(), 2);
  t.is(await c.readRound(), 2);
});

test("3 coordinators allocating concurrently get distinct, increasing rounds", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2, 3], {
    campaign: false,
  });
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  const perNode = 50;
  const started = Date.now();
  const sequences = await Promise.all(
    cs.map(async (c) => {
      const got: number[] = [];
      for (let i = 0; i < perNode; i++) got.push(await c.allocateRound());
      return got;
    }),
  );
  const ms = Date.now() - started;
  const all = sequences.flat();
  t.is(all.length, 3 * perNode);
  t.is(new Set(all).size, all.length, "every round is unique");
  for (const seq of sequences) {
    for (let i = 1; i < seq.length; i++) t.true(seq[i]! > seq[i - 1]!, "increasing per node");
  }
  const max = Math.max(...all);
  t.is(await cs[0]!.readRound(), max, "readRound sees the highest round");
  t.log(`${all.length} rounds in ${ms} ms (${Math.round((all.length * 1000) / ms)}/s), max ${max}`);
});

test("rounds are ordered in real time across coordinators", async (t) => {
  const cs = await startCoordinators(etcd.endpoints, uniqueCluster(), [1, 2], { campaign: false });
  t.teardown(() => Promise.all(cs.map((c) => c.stop())));
  let last = 0;
  for (let i = 0; i < 20; i++) {
    const r = await cs[i % 2]!.allocateRound();
    t.true(r > last);
    t.true((await cs[(i + 1) % 2]!.readRound()) >= r, "a later read sees the round");
    last = r;
  }
});

test("each start takes a higher incarnation", async (t) => {
  const cluster = uniqueCluster();
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c: Coordinator = makeCoordinator(etcd.endpoints, cluster, 7, { campaign: false });
    try {
      await c.start();
      seen.push(c.incarnation);
    } finally {
      await c.stop();
    }
  }
  t.deepEqual(seen, [1, 2, 3]);
});
