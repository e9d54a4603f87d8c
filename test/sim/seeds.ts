import { runSeed, type SimOptions, type SimResult } from "./simulation";

export interface SeedRunSummary {
  readonly seeds: number;
  readonly steps: number;
  readonly violations: number;
  /** Over every seed whose history was checked: ops and partitions checked, and their verdicts. */
  readonly history: HistoryTotals;
  readonly failures: readonly SimResult[];
  readonly elapsedMs: number;
}

export interface HistoryTotals {
  readonly seeds: number;
  readonly ops: number;
  readonly partitions: number;
  readonly partitionsOk: number;
  readonly partitionsUnknown: number;
}

/**
 * Runs `count` seeds from `firstSeed`. With no fixed replica count, seeds
 * alternate between 3 and 5 replicas.
 */
export function runSeeds(
  firstSeed: number,
  count: number,
  options: Omit<SimOptions, "seed" | "replicas"> & { replicas?: number },
  onResult?: (result: SimResult, done: number) => void,
): SeedRunSummary {
  const started = Date.now();
  let steps = 0;
  let violations = 0;
  const failures: SimResult[] = [];
  const history = { seeds: 0, ops: 0, partitions: 0, partitionsOk: 0, partitionsUnknown: 0 };
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const replicas = options.replicas ?? (seed % 2 === 0 ? 3 : 5);
    const result = runSeed({ ...options, seed, replicas });
    steps += result.steps;
    violations += result.violations.length;
    if (result.history) {
      history.seeds++;
      history.ops += result.history.ops;
      history.partitions += result.history.partitions;
      history.partitionsOk += result.history.partitionsOk;
      history.partitionsUnknown += result.history.partitionsUnknown;
    }
    if (result.violations.length > 0) failures.push(result);
    onResult?.(result, i + 1);
  }
  return { seeds: count, steps, violations, history, failures, elapsedMs: Date.now() - started };
}

export function describeFailure(result: SimResult): string {
  const lines = [
    `seed ${result.seed} (${result.replicas} replicas) failed: ${result.faults}`,
    ...result.violations.map((v) => `  t=${v.tick} ${v.kind}: ${v.detail}`),
    ...(result.history?.report ? [indent(result.history.report, "    ")] : []),
    `  last events (reproduce with: paxlog sim --seed ${result.seed} --replicas ${result.replicas}):`,
    ...result.trace.map((line) => `    ${line}`),
  ];
  return lines.join("\n");
}

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((line) => (line ? by + line : line))
    .join("\n");
}
