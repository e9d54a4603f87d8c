/**
 * The cost of state size (issue 7): heap per key of the key-value projection
 * at 10k, 100k and 1M keys, 100-byte values, as a replica holds it (B+tree,
 * versions, the exactly-once table of 64 clients). Not a test:
 *   npx tsc -p . && node --expose-gc dist/ops/bench/memory-per-key.js [keys...]
 */
import { type Command, type LogIndex, put } from "../../domain";
import { applyBatch, createProjection, type KvProjection } from "../../projections";

const CLIENTS = 64;

const gc = (globalThis as { gc?: () => void }).gc;

function settledHeap(): number {
  // Twice: a first full GC may leave finalisable garbage for a second.
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function build(keys: number): KvProjection {
  let p = createProjection();
  let index = 0;
  let requestId = 0;
  for (let n = 0; n < keys; n += 1000) {
    const commands: Command[] = [];
    for (let i = n; i < Math.min(n + 1000, keys); i++) {
      requestId++;
      const key = `key:${String(i).padStart(8, "0")}`;
      // A distinct value per key, as real data (one shared string would hide its cost).
      commands.push(put(`client-${requestId % CLIENTS}`, requestId, key, `${i}:`.padEnd(100, "v")));
    }
    p = applyBatch(p, ++index as LogIndex, commands).projection;
  }
  return p;
}

function main(): void {
  if (!gc) {
    console.error("run with node --expose-gc (the figures need a forced full GC)");
    process.exit(2);
  }
  const sizes = process.argv.slice(2).map(Number);
  const counts = sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000];
  console.log("keys        heap MiB   bytes/key   (key 12 B + value 100 B of payload)");
  for (const keys of counts) {
    const before = settledHeap();
    const projection = build(keys);
    const after = settledHeap();
    const bytes = after - before;
    console.log(
      `${String(keys).padEnd(11)} ${(bytes / 2 ** 20).toFixed(1).padStart(8)}   ${Math.round(
        bytes / keys,
      )
        .toString()
        .padStart(9)}`,
    );
    // Keep the projection alive until measured.
    if (projection.appliedIndex < 0) console.log("unreachable");
  }
}

main();
