import { parseArgs } from "node:util";
import { describeFailure, runSeeds } from "../test/sim/seeds";
import { positiveInt, UsageError } from "./usage-error";

export const SIM_HELP = `paxlog sim — run the deterministic simulation of a whole cluster

Every replica runs the real consensus core in one process; a seeded PRNG
drives the network (loss, duplication, delay, reordering, partitions),
crashes with memory loss and restarts, a simulated etcd (ballot counter,
membership, a leader hint that may name two leaders or none) and clients.
Safety is checked after every step; once faults stop, every client command
must be chosen and every replica must converge. At the end of each run the
clients' puts and read-index reads are checked for linearizability.

Usage: paxlog sim [--seeds N] [--seed S] [--replicas n] [--no-crashes] [--quiet]

  --seeds N       how many seeds to run (default 200), starting at --seed
  --seed S        the first seed (default 1); with --seeds 1, exactly one run
  --replicas n    cluster size (default: 3 and 5 alternating by seed)
  --no-crashes    never crash replicas
  --quiet         no progress line
  -h, --help      this text

Prints "seeds: N, steps: S, violations: V, history: O ops, P partitions
(ok K, unknown U)" and exits 1 on any violation, after printing the failing
seed and a trace of its last events. An unknown partition (the checker's
step budget ran out) is counted, not a violation.`;

export function simCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: "string", default: "200" },
      seed: { type: "string", default: "1" },
      replicas: { type: "string" },
      "no-crashes": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(SIM_HELP);
    return 0;
  }
  const seeds = positiveInt(values.seeds, "--seeds");
  const first = positiveInt(values.seed, "--seed");
  const replicas =
    values.replicas === undefined ? undefined : positiveInt(values.replicas, "--replicas");
  if (replicas !== undefined && replicas > 9) throw new UsageError("--replicas must be 1..9");
  const progress = !values.quiet && process.stderr.isTTY;
  let lastPrint = 0;
  const summary = runSeeds(
    first,
    seeds,
    { ...(replicas ? { replicas } : {}), crashes: !values["no-crashes"] },
    (result, done) => {
      if (result.violations.length > 0) console.error(`\n${describeFailure(result)}`);
      const now = Date.now();
      if (progress && (now - lastPrint > 250 || done === seeds)) {
        lastPrint = now;
        process.stderr.write(`\r  ${done}/${seeds} seeds (seed ${result.seed})   `);
      }
    },
  );
  if (progress) process.stderr.write("\n");
  const rate = summary.seeds / Math.max(summary.elapsedMs / 1000, 0.001);
  const h = summary.history;
  console.log(
    `seeds: ${summary.seeds}, steps: ${summary.steps}, violations: ${summary.violations}, ` +
      `history: ${h.ops} ops, ${h.partitions} partitions (ok ${h.partitionsOk}, unknown ${h.partitionsUnknown}) ` +
      `(${(summary.elapsedMs / 1000).toFixed(1)} s, ${rate.toFixed(1)} seeds/s)`,
  );
  return summary.violations > 0 ? 1 : 0;
}
