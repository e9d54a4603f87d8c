import { type Command, logIndex, put } from "../../domain";
import { applyBatch, createProjection } from "../../projections/kv-projection";
const KEYS = 100_000;
let p = createProjection();
let idx = 1;
// preload
for (let b = 0; b < KEYS / 1000; b++) {
  const cmds: Command[] = [];
  for (let i = 0; i < 1000; i++) cmds.push(put("c" + (i % 64), idx * 1000 + i, "key" + (b * 1000 + i), "v"));
  p = applyBatch(p, logIndex(idx++), cmds).projection;
}
for (const batch of [1, 100, 1000]) {
  const N = batch === 1 ? 100_000 : 300_000;
  const t0 = performance.now();
  let rid = 1e9;
  for (let n = 0; n < N; n += batch) {
    const cmds: Command[] = [];
    for (let i = 0; i < batch; i++) { rid++; cmds.push(put("c" + (rid % 64), rid, "key" + ((rid * 7919) % KEYS), "w" + rid)); }
    p = applyBatch(p, logIndex(idx++), cmds).projection;
  }
  const dt = performance.now() - t0;
  console.log(batch, Math.round(N / (dt / 1000)), "ops/s");
}
