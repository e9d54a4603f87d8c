import test from "ava";
import { describeFailure, runSeeds } from "./seeds";

// 300 seeds of a 5-replica cluster with every fault on, memory-loss crashes included.
test("300 seeds, 5 replicas: no safety or liveness violation", (t) => {
  const summary = runSeeds(100_001, 300, { replicas: 5 });
  t.log(`steps: ${summary.steps} in ${summary.elapsedMs} ms`);
  t.true(summary.steps > 300 * 1000, "every seed ran the cluster for real");
  t.deepEqual(summary.failures.map(describeFailure), []);
});
