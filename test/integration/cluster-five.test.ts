import test from "ava";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

test("5 replicas: writes through every replica read back from every replica, across a leader crash", async (t) => {
  const c = await TestCluster.start({ nodes: 5 });
  t.teardown(() => c.stop());
  for (const w of c.replicas) {
    t.is((await request("PUT", `${w.url}/v1/kv/five-${w.id}`, { value: `w${w.id}` })).status, 200);
  }
  for (const r of c.replicas) {
    for (const w of c.replicas)
      t.is((await getJson(`${r.url}/v1/kv/five-${w.id}`)).body.value, `w${w.id}`);
  }
  const leader = await c.leader();
  await c.kill(leader);
  const survivor = c.replicas.find((r) => r.id !== leader)!;
  const started = Date.now();
  await waitFor(
    async () =>
      (await request("PUT", `${survivor.url}/v1/kv/five-after`, { value: "ok" }).catch(() => null))
        ?.status === 200,
    { timeoutMs: 20_000, intervalMs: 20, message: "writes resume after the leader crash" },
  );
  t.log(`5 replicas: writes resumed ${Date.now() - started} ms after killing leader ${leader}`);
  for (const r of c.replicas.filter((x) => x.id !== leader)) {
    t.is((await getJson(`${r.url}/v1/kv/five-after`)).body.value, "ok");
  }
});
