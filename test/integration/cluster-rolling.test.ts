import test from "ava";
import { getJson, request, TestCluster } from "../support/cluster";

test("a rolling restart of every replica (one at a time, each back empty) loses no acknowledged write", async (t) => {
  const c = await TestCluster.start({ nodes: 3, snapshotEvery: 30, retainTail: 5 });
  t.teardown(() => c.stop());
  const acked = new Map<string, string>();
  let failures = 0;
  let n = 0;
  /** One client writing sequentially through whichever replica is up. */
  const writeSome = async (count: number) => {
    for (let i = 0; i < count; i++, n++) {
      const key = `roll-${n % 17}`;
      const value = `v${n}`;
      const via = c.replicas.find((r) => r.process !== null)!;
      const a = await request("PUT", `${via.url}/v1/kv/${key}`, { value }).catch(() => null);
      if (a?.status === 200) acked.set(key, value);
      else failures++;
    }
  };
  await writeSome(40);
  for (const r of c.replicas) {
    await c.kill(r.id);
    await writeSome(40); // the others keep serving; snapshots move past the victim
    await c.restart(r.id); // waits until it has caught up and left recovery
    await writeSome(10);
  }
  t.log(`${acked.size} keys, ${n} writes, ${failures} refused during restarts`);
  t.true(failures <= 6, `writes refused: ${failures}`);
  for (const reader of c.replicas) {
    for (const [key, value] of acked) {
      const got = await getJson(`${reader.url}/v1/kv/${key}`);
      t.is(got.body.value, value, `replica ${reader.id}, ${key}`);
    }
  }
});
