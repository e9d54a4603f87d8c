import { describeEntry, formatOp, formatResult, formatTime } from "./format";
import { effectiveReturn, type History } from "./history";
import type { LinearizabilityResult, Violation } from "./linearizability";

/**
 * Human-readable reports. The violation timeline is what an engineer reads first
 * after a failed run, so it shows every op of the shrunk partition in invoke order
 * with an ASCII bar of its real-time interval (overlaps are what make histories
 * hard to read), then the longest linearizable prefix the search reached: the
 * violation is at one of the ops that could not be appended to it.
 */

const BAR_WIDTH = 40;

export function renderTimeline(
  entries: History,
  linearized: ReadonlySet<number> = new Set(),
): string {
  const sorted = [...entries].sort((a, b) => a.invokeTime - b.invokeTime || a.id - b.id);
  const finite = sorted.flatMap((e) => [e.invokeTime, e.returnTime].filter(Number.isFinite));
  const t0 = Math.min(...finite);
  const t1 = Math.max(...finite);
  const col = (t: number): number =>
    Number.isFinite(t)
      ? Math.round(((t - t0) / Math.max(t1 - t0, 1)) * (BAR_WIDTH - 1))
      : BAR_WIDTH;
  const rows = sorted.map((e) => {
    const from = col(e.invokeTime);
    const to = col(effectiveReturn(e));
    const bar = `${" ".repeat(from)}[${"-".repeat(Math.max(to - from - 1, 0))}`;
    const barText = (to >= BAR_WIDTH ? `${bar}-->` : `${bar}]`).padEnd(BAR_WIDTH + 3);
    return [
      linearized.has(e.id) ? "*" : " ",
      `#${e.id}`,
      e.clientId,
      formatTime(e.invokeTime),
      formatTime(effectiveReturn(e)),
      barText,
      formatOp(e.op),
      formatResult(e.op, e.result),
    ];
  });
  const header = [" ", "id", "client", "invoke", "return", "", "op", "result"];
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const right = new Set([3, 4]);
  return table
    .map((r) =>
      r
        .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function renderViolation(v: Violation): string {
  const byId = new Map(v.entries.map((e) => [e.id, e]));
  const cut = Number.isFinite(v.cutoff)
    ? `; shrunk to ops invoked by t=${v.cutoff} (ops still outstanding then shown as unknown)`
    : "";
  const lines = [
    `NOT LINEARIZABLE on key(s) ${v.keys.join(", ")}: ${v.entries.length} of ${v.partitionOpCount} ops${cut}`,
    "",
    renderTimeline(v.entries, new Set(v.longestPrefix)),
    "",
    `longest linearizable prefix found (${v.longestPrefix.length} of ${v.entries.length} ops, marked *):`,
    ...v.longestPrefix.map((id, i) => `  ${i + 1}. ${describeEntry(byId.get(id)!)}`),
    "no op left can be linearized after it consistently with its result and real time.",
  ];
  return lines.join("\n");
}

export function renderSummary(result: LinearizabilityResult): string {
  const count = (v: string) => result.partitions.filter((p) => p.verdict === v).length;
  const ops = result.partitions.reduce((n, p) => n + p.opCount, 0);
  const lines = [
    `linearizability: ${result.verdict} (${result.partitions.length} partitions, ${ops} ops: ` +
      `${count("ok")} ok, ${count("violation")} violation, ${count("unknown")} unknown)`,
  ];
  for (const p of result.partitions.filter((x) => x.verdict === "unknown")) {
    lines.push(
      `  unknown: keys ${p.keys.join(", ")} (${p.opCount} ops): ${p.budgetExhausted} budget ` +
        `ran out after ${p.steps} steps, ${Math.round(p.millis)} ms`,
    );
  }
  if (result.violation !== undefined) lines.push("", renderViolation(result.violation));
  return lines.join("\n");
}
