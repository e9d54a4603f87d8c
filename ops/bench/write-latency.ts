import { parseArgs } from "node:util";

/**
 * One closed-loop client: COUNT sequential PUTs (then as many linearizable
 * GETs) against one replica, printing latency percentiles. A quick probe of
 * single-client latency; the full benchmark against etcd is `paxlog bench`.
 *
 *   node dist/ops/bench/write-latency.js --endpoint http://127.0.0.1:8081 --count 500
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoint: { type: "string", default: "http://127.0.0.1:8081" },
      count: { type: "string", default: "500" },
      "value-bytes": { type: "string", default: "100" },
    },
  });
  const count = Number(values.count);
  const value = "x".repeat(Number(values["value-bytes"]));
  const puts: number[] = [];
  const gets: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const res = await fetch(`${values.endpoint}/v1/kv/lat-${i % 100}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
    puts.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const res = await fetch(`${values.endpoint}/v1/kv/lat-${i % 100}`);
    await res.text();
    gets.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  console.log(
    `endpoint ${values.endpoint}, ${count} sequential requests each, ${value.length}-byte values`,
  );
  console.log(`put: ${describe(puts)}`);
  console.log(`linearizable get: ${describe(gets)}`);
}

function describe(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
