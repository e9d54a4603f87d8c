import test from "ava";
import { runCli } from "../support/cli";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

test("digests agree across replicas, and every replica's replay from snapshot + log matches its live state", async (t) => {
  // Snapshot every 25 entries: the 150 writes below compact the log several times.
  const c = await TestCluster.start({ nodes: 3, snapshotEvery: 25, retainTail: 5 });
  t.teardown(() => c.stop());
  let last = 0;
  for (let i = 0; i < 150; i++) {
    const via = c.replicas[i % 3]!.url;
    const a =
      i % 10 === 3
        ? await request("POST", `${via}/v1/kv/counter/incr`, { by: i })
        : i % 10 === 7
          ? await request("POST", `${via}/v1/txn`, {
              puts: [{ key: `t${i}`, value: "x" }],
              deletes: [`k${i - 7}`],
            })
          : await request("PUT", `${via}/v1/kv/k${i}`, { value: `v${i}` });
    t.is(a.status, 200, JSON.stringify(a.body));
    last = Math.max(last, a.body.index);
  }
  // Every replica has applied at least `last`; then compare at one index.
  for (const r of c.replicas) {
    await waitFor(
      async () =>
        (
          await getJson(`${r.url}/v1/kv/counter?consistency=sequential`, {
            "X-Paxlog-Min-Index": String(last),
          })
        ).status === 200,
      { timeoutMs: 10_000, intervalMs: 50, message: `replica ${r.id} reaches ${last}` },
    );
  }
  const digests = await Promise.all(
    c.replicas.map(async (r) => (await getJson(`${r.url}/v1/admin/digest`)).body),
  );
  t.true(
    digests.every((d) => d.index === digests[0].index),
    JSON.stringify(digests),
  );
  t.is(new Set(digests.map((d) => d.digest)).size, 1, "equal states at equal indexes");
  for (const r of c.replicas) {
    const report = await request("POST", `${r.url}/v1/admin/replay`);
    t.is(report.status, 200, JSON.stringify(report.body));
    t.true(report.body.match);
    t.true(report.body.complete);
    t.true(report.body.snapshotIndex >= 125, `replayed from snapshot ${report.body.snapshotIndex}`);
    t.is(report.body.appliedIndex, report.body.snapshotIndex + report.body.entriesReplayed);
  }
  const endpoints = c.replicas.map((r) => r.url).join(",");
  const replay = await runCli(["replay", "--endpoints", endpoints]);
  t.is(replay.code, 0, replay.stdout + replay.stderr);
  t.is(replay.stdout.trim().split("\n").length, 3, "one line per replica");
  const digest = await runCli(["digest", "--endpoints", `${endpoints},http://127.0.0.1:1`]);
  t.is(digest.code, 1, "an unreachable replica makes digest fail");
});
