import { formatOp, formatResult, formatTime } from "./format";
import type { History } from "./history";

/**
 * A standalone SVG timeline of a (small, shrunk) history: one row per op, grouped
 * by client, a bar over its real-time interval. Ops in `linearized` (the longest
 * linearizable prefix) are green, the rest orange; unknown outcomes run dashed to
 * the right edge, because they may take effect at any later time.
 */

const LEFT = 90;
const PLOT = 560;
const LABEL = 420;
const ROW = 24;
const TOP = 30;

export function renderTimelineSvg(
  entries: History,
  linearized: ReadonlySet<number> = new Set(),
  title = "history",
): string {
  const rows = [...entries].sort(
    (a, b) =>
      (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0) ||
      a.invokeTime - b.invokeTime ||
      a.id - b.id,
  );
  const finite = rows.flatMap((e) => [e.invokeTime, e.returnTime].filter(Number.isFinite));
  const t0 = finite.length > 0 ? Math.min(...finite) : 0;
  const t1 = finite.length > 0 ? Math.max(...finite) : 1;
  const x = (t: number): number =>
    LEFT + (Number.isFinite(t) ? ((t - t0) / Math.max(t1 - t0, 1)) * (PLOT - 20) : PLOT);
  const width = LEFT + PLOT + LABEL;
  const height = TOP + rows.length * ROW + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="12">`,
    `<text x="8" y="18" font-weight="bold">${esc(title)} (t=${formatTime(t0)}..${formatTime(t1)})</text>`,
  ];
  rows.forEach((e, i) => {
    const y = TOP + i * ROW;
    const unknown = e.result.status === "unknown";
    const from = x(e.invokeTime);
    const to = unknown ? x(Number.POSITIVE_INFINITY) : Math.max(x(e.returnTime), from + 2);
    const fill = linearized.has(e.id) ? "#b7e4c7" : "#ffd6a5";
    const dash = unknown ? ` stroke-dasharray="4 3"` : "";
    const label = `#${e.id} ${formatOp(e.op)} -> ${formatResult(e.op, e.result)}`;
    parts.push(
      `<text x="8" y="${y + 15}">${esc(e.clientId)}</text>`,
      `<rect x="${from.toFixed(1)}" y="${y + 3}" width="${(to - from).toFixed(1)}" height="${ROW - 8}" fill="${fill}" stroke="#555"${dash}><title>${esc(`${label} [${formatTime(e.invokeTime)}, ${unknown ? "∞" : formatTime(e.returnTime)}]`)}</title></rect>`,
      `<text x="${LEFT + PLOT + 10}" y="${y + 15}">${esc(label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

function esc(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}
