import { type History, type HistoryEntry, validateHistory } from "./history";

/**
 * JSON-lines form of a history: one entry per line, so a failing run can be saved,
 * appended to while it runs, and re-checked later. JSON has no Infinity, so a
 * `returnTime` of +∞ is written as `null`.
 */

const OP_KINDS = new Set(["get", "put", "delete", "cas", "incr", "append", "txn"]);

export function serializeHistory(history: History): string {
  return history.map(serializeEntry).join("\n") + (history.length > 0 ? "\n" : "");
}

export function serializeEntry(entry: HistoryEntry): string {
  const returnTime = Number.isFinite(entry.returnTime) ? entry.returnTime : null;
  return JSON.stringify({
    id: entry.id,
    clientId: entry.clientId,
    invokeTime: entry.invokeTime,
    returnTime,
    op: entry.op,
    result: entry.result,
  });
}

export class HistoryParseError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid history:\n  ${problems.slice(0, 20).join("\n  ")}`);
    this.name = "HistoryParseError";
  }
}

/** Parses JSON lines (blank lines ignored); throws HistoryParseError listing every problem. */
export function parseHistory(text: string): History {
  const entries: HistoryEntry[] = [];
  const problems: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      entries.push(parseEntry(JSON.parse(line)));
    } catch (e) {
      problems.push(`line ${i + 1}: ${(e as Error).message}`);
    }
  }
  problems.push(...validateHistory(entries));
  if (problems.length > 0) throw new HistoryParseError(problems);
  return entries;
}

function parseEntry(raw: unknown): HistoryEntry {
  if (typeof raw !== "object" || raw === null) throw new Error("not an object");
  const r = raw as Record<string, unknown>;
  const op = r["op"] as Record<string, unknown> | undefined;
  const result = r["result"] as Record<string, unknown> | undefined;
  if (typeof r["id"] !== "number") throw new Error("id must be a number");
  if (typeof r["clientId"] !== "string") throw new Error("clientId must be a string");
  if (typeof r["invokeTime"] !== "number") throw new Error("invokeTime must be a number");
  if (r["returnTime"] !== null && typeof r["returnTime"] !== "number") {
    throw new Error("returnTime must be a number or null");
  }
  if (typeof op !== "object" || op === null || !OP_KINDS.has(op["kind"] as string)) {
    throw new Error("op.kind must be one of get, put, delete, cas, incr, append, txn");
  }
  if (op["kind"] === "txn" && (!Array.isArray(op["puts"]) || !Array.isArray(op["deletes"]))) {
    throw new Error("txn needs puts[] and deletes[]");
  }
  if (typeof result !== "object" || result === null) throw new Error("result must be an object");
  return {
    id: r["id"],
    clientId: r["clientId"],
    invokeTime: r["invokeTime"],
    returnTime: r["returnTime"] === null ? Number.POSITIVE_INFINITY : r["returnTime"],
    op,
    result,
  } as unknown as HistoryEntry;
}
