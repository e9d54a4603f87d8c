import type { HistoryEntry, Op, Result } from "./history";

/** One-line renderings of ops and results, shared by the text and SVG timelines. */

const q = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

export function formatOp(op: Op): string {
  switch (op.kind) {
    case "get":
      return `get(${op.key}${op.consistency === "sequential" ? ", sequential" : ""})`;
    case "put":
      return `put(${op.key}, ${q(op.value)})`;
    case "delete":
      return `delete(${op.key})`;
    case "cas":
      return `cas(${op.key}, ${q(op.expected)} -> ${q(op.value)})`;
    case "incr":
      return `incr(${op.key}, ${op.by})`;
    case "append":
      return `append(${op.key}, ${q(op.suffix)})`;
    case "txn": {
      const parts = [
        ...op.puts.map((p) => `${p.key}=${q(p.value)}`),
        ...op.deletes.map((k) => `-${k}`),
      ];
      return `txn(${parts.join(", ")})`;
    }
  }
}

export function formatResult(op: Op, result: Result): string {
  if (result.status === "unknown") return "unknown";
  const r = result as unknown as Record<string, unknown>;
  const at = typeof r["index"] === "number" ? ` @${r["index"]}` : "";
  switch (op.kind) {
    case "get":
    case "incr":
    case "append":
      return `${q(r["value"] as string | null)}${at}`;
    case "delete":
      return `${r["deleted"] ? "deleted" : "absent"}${at}`;
    case "cas":
      return `${r["succeeded"] ? "succeeded" : "failed"}${at}`;
    case "put":
    case "txn":
      return `ok${at}`;
  }
}

export function formatTime(t: number): string {
  return Number.isFinite(t) ? String(t) : "∞";
}

export function describeEntry(e: HistoryEntry): string {
  return `#${e.id} ${e.clientId} ${formatOp(e.op)} -> ${formatResult(e.op, e.result)}`;
}
