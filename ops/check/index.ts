import { readFile } from "node:fs/promises";
import type { History } from "./history";
import { parseHistory } from "./history-jsonl";
import {
  type CheckOptions,
  checkLinearizability,
  type LinearizabilityResult,
} from "./linearizability";
import { renderSummary } from "./report";
import { checkSequential, type SequentialResult } from "./sequential";

export * from "./history";
export { HistoryParseError, parseHistory, serializeEntry, serializeHistory } from "./history-jsonl";
export * from "./linearizability";
export { renderSummary, renderTimeline, renderViolation } from "./report";
export * from "./sequential";
export { renderTimelineSvg } from "./timeline-svg";

export interface HistoryCheck {
  readonly linearizability: LinearizabilityResult;
  readonly sequential: SequentialResult;
  /** Human-readable, for the terminal. */
  readonly report: string;
  /** 0 all good, 1 a violation or session anomaly, 2 inconclusive (a budget ran out). */
  readonly exitCode: 0 | 1 | 2;
}

/** Both checks on an in-memory history. */
export function checkHistory(history: History, options: CheckOptions = {}): HistoryCheck {
  const linearizability = checkLinearizability(history, options);
  const sequential = checkSequential(history);
  const seqText = sequential.ok
    ? "sequential sessions: ok"
    : [
        `sequential sessions: ${sequential.anomalies.length} anomalies`,
        ...sequential.anomalies.slice(0, 20).map((a) => `  ${a.message}`),
      ].join("\n");
  const bad = linearizability.verdict === "violation" || !sequential.ok;
  return {
    linearizability,
    sequential,
    report: `${renderSummary(linearizability)}\n${seqText}`,
    exitCode: bad ? 1 : linearizability.verdict === "unknown" ? 2 : 0,
  };
}

/**
 * Entry point for `paxlog check --history FILE`: reads a JSON-lines history,
 * checks it, returns the outcome (the caller prints `report`, exits `exitCode`).
 * Throws HistoryParseError on a malformed file.
 */
export async function checkHistoryFile(
  path: string,
  options: CheckOptions = {},
): Promise<HistoryCheck> {
  return checkHistory(parseHistory(await readFile(path, "utf8")), options);
}
