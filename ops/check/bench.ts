import { performance } from "node:perf_hooks";
import { randomHistory } from "./generate";
import { checkLinearizability } from "./linearizability";
import { checkSequential } from "./sequential";

/**
 * Times the checkers on a generated linearizable history:
 *   node dist/ops/check/bench.js [ops] [keys] [clients] [unknownRate] [txnRate] [seed]
 */
function main(argv: readonly string[]): void {
  const [ops = 10_000, keys = 10, clients = 10, unknownRate = 0, txnRate = 0, seed = 1] =
    argv.map(Number);
  const history = randomHistory(seed, { ops, keys, clients, unknownRate, txnRate });
  const t0 = performance.now();
  const lin = checkLinearizability(history);
  const t1 = performance.now();
  const seq = checkSequential(history);
  const t2 = performance.now();
  const steps = Math.max(...lin.partitions.map((p) => p.steps));
  console.log(
    `${history.length} ops, ${lin.partitions.length} partitions: linearizability ${lin.verdict} ` +
      `in ${(t1 - t0).toFixed(0)} ms (max ${steps} steps/partition); ` +
      `sequential ${seq.ok ? "ok" : "anomalies"} in ${(t2 - t1).toFixed(0)} ms`,
  );
}

if (require.main === module) main(process.argv.slice(2));
