import type { StepResult } from "./step";

/** One line of the comparison: paxlog and (if run) etcd for one replicas/op/clients. */
export interface Pair {
  readonly replicas: number;
  readonly op: string;
  readonly clients: number;
  readonly paxlog?: StepResult;
  readonly etcd?: StepResult;
}

export function pairs(rows: readonly StepResult[]): Pair[] {
  const out = new Map<string, { -readonly [K in keyof Pair]: Pair[K] }>();
  for (const r of rows) {
    const id = `${r.replicas}|${r.op}|${r.clients}`;
    const p = out.get(id) ?? { replicas: r.replicas, op: r.op, clients: r.clients };
    if (r.system === "etcd") p.etcd = r;
    else p.paxlog = r;
    out.set(id, p);
  }
  return [...out.values()];
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined ? "-" : x.toFixed(digits));
const lat = (r: StepResult | undefined) =>
  r ? `${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} / ${fmt(r.p999, 2)}` : "-";
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : "-";

/**
 * paxlog/etcd ratios of one per-window figure, windows paired in the order
 * they ran (window k of one system ran next to window k of the other), so
 * each is a comparison at one moment. Undefined without two systems or when
 * an etcd window's figure is 0.
 */
function windowRatios(
  paxlog: readonly number[] | undefined,
  etcd: readonly number[] | undefined,
): number[] | undefined {
  if (!paxlog || !etcd) return undefined;
  const n = Math.min(paxlog.length, etcd.length);
  if (n === 0) return undefined;
  const ratios: number[] = [];
  for (let k = 0; k < n; k++) {
    if (etcd[k]! <= 0) return undefined;
    ratios.push(paxlog[k]! / etcd[k]!);
  }
  return ratios;
}

/**
 * The lowest and highest paxlog/etcd throughput ratio over the step's
 * windows: how far the machine's drift moves the ratio within one run.
 */
export function ratioSpread(
  paxlog: StepResult | undefined,
  etcd: StepResult | undefined,
): { min: number; max: number } | undefined {
  const ratios = windowRatios(paxlog?.windowOpsPerSec, etcd?.windowOpsPerSec);
  return ratios && { min: Math.min(...ratios), max: Math.max(...ratios) };
}

/**
 * The same for median latency, with how many paired windows paxlog's was
 * no higher than etcd's: where the two are close, one run's pooled p50
 * ratio is a coin toss, and this says how often paxlog won it.
 */
export function p50Spread(
  paxlog: StepResult | undefined,
  etcd: StepResult | undefined,
): { min: number; max: number; atMostEtcd: number; windows: number } | undefined {
  // A window without a single answer has no median (summarize reports 0).
  if (paxlog?.windowP50.some((x) => x <= 0)) return undefined;
  const ratios = windowRatios(paxlog?.windowP50, etcd?.windowP50);
  return (
    ratios && {
      min: Math.min(...ratios),
      max: Math.max(...ratios),
      atMostEtcd: ratios.filter((r) => r <= 1).length,
      windows: ratios.length,
    }
  );
}

const spread = (p: Pair) => {
  const s = ratioSpread(p.paxlog, p.etcd);
  return s ? `${s.min.toFixed(2)}–${s.max.toFixed(2)}` : "-";
};

const p50ByWindow = (p: Pair) => {
  const s = p50Spread(p.paxlog, p.etcd);
  return s ? `${s.min.toFixed(2)}–${s.max.toFixed(2)} (${s.atMostEtcd}/${s.windows} ≤ 1)` : "-";
};

const pct = (x: number | undefined) => (x === undefined ? "-" : `${fmt(x, 0)}%`);

const HEAD = [
  "n",
  "op",
  "clients",
  "paxlog ops/s",
  "etcd ops/s",
  "ratio",
  "ratio by window",
  "paxlog p50/p99/p99.9 ms",
  "etcd p50/p99/p99.9 ms",
  "p50 ratio",
  "p50 ratio by window",
  "p99 ratio",
  "errors px/etcd",
  "gen CPU px/etcd",
  "server CPU px/etcd",
  "server µs/op px/etcd",
  "idle CPU px/etcd",
];

function cells(p: Pair): string[] {
  const px = p.paxlog;
  const et = p.etcd;
  return [
    String(p.replicas),
    p.op,
    String(p.clients),
    fmt(px?.opsPerSec, 0),
    fmt(et?.opsPerSec, 0),
    ratio(px?.opsPerSec, et?.opsPerSec),
    spread(p),
    lat(px),
    lat(et),
    ratio(px?.p50, et?.p50),
    p50ByWindow(p),
    ratio(px?.p99, et?.p99),
    `${px?.errors ?? "-"}/${et?.errors ?? "-"}`,
    `${pct(px?.genCpuPct)}/${pct(et?.genCpuPct)}`,
    `${pct(px?.serverCpuPct)}/${pct(et?.serverCpuPct)}`,
    `${fmt(px?.serverUsPerOp, 0)}/${fmt(et?.serverUsPerOp, 0)}`,
    `${pct(px?.idleCpuPct)}/${pct(et?.idleCpuPct)}`,
  ];
}

/** A fixed-width table for the terminal. */
export function textTable(rows: readonly StepResult[]): string {
  const body = pairs(rows).map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(HEAD), ...body.map(line)].join("\n");
}

export function markdown(
  rows: readonly StepResult[],
  meta: { date: string; machine: string; settings: string },
): string {
  const body = pairs(rows).map(cells);
  return [
    `# paxlog bench — ${meta.date}`,
    "",
    `Machine: ${meta.machine}`,
    "",
    `Settings: ${meta.settings}`,
    "",
    "ratio = paxlog / etcd (throughput: higher is better for paxlog; p99: lower is better).",
    "ratio by window = the lowest and highest throughput ratio of the windows run back to back (how much the machine's drift moves it).",
    "p50 ratio by window = the same for median latency (lower is better for paxlog), and in how many of those windows paxlog's median was no higher than etcd's.",
    "gen CPU = the load generator's own CPU during the step, % of one core.",
    "server CPU = every replica (member) of the system together, % of one core, and per operation.",
    "idle CPU = the whole machine's idle CPU during the step (every core), % of one core.",
    "",
    `| ${HEAD.join(" | ")} |`,
    `| ${HEAD.map((_, i) => (i < 2 ? "---" : "---:")).join(" | ")} |`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
    "",
    "![throughput and p99 against clients](plot.svg)",
    "",
  ].join("\n");
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/**
 * Two panels, throughput and p99 against clients (log-spaced x), one line
 * per system/op/cluster size: colour by op, paxlog solid, etcd dashed.
 */
export function svgPlot(rows: readonly StepResult[]): string {
  const series = new Map<string, StepResult[]>();
  for (const r of rows) {
    const id = `${r.system} ${r.op} n=${r.replicas}`;
    series.set(id, [...(series.get(id) ?? []), r]);
  }
  const ops = [...new Set(rows.map((r) => `${r.op} n=${r.replicas}`))];
  const clients = [...new Set(rows.map((r) => r.clients))].sort((a, b) => a - b);
  const W = 460;
  const H = 300;
  const M = { l: 60, r: 10, t: 30, b: 40 };
  const legendH = 16 * series.size + 10;
  const xOf = (c: number) => {
    const lo = Math.log(clients[0] ?? 1);
    const hi = Math.log(clients[clients.length - 1] ?? 1);
    const f = hi > lo ? (Math.log(c) - lo) / (hi - lo) : 0.5;
    return M.l + f * (W - M.l - M.r);
  };
  const panel = (ox: number, title: string, value: (r: StepResult) => number, unit: string) => {
    const maxV = Math.max(1e-9, ...rows.map(value)) * 1.1;
    const yOf = (v: number) => M.t + (1 - v / maxV) * (H - M.t - M.b);
    const out: string[] = [`<g transform="translate(${ox},0)">`];
    out.push(
      `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    );
    out.push(
      `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#000"/>`,
      `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#000"/>`,
    );
    for (let i = 0; i <= 4; i++) {
      const v = (maxV / 1.1) * (i / 4);
      const y = yOf(v);
      out.push(
        `<line x1="${M.l}" y1="${y}" x2="${W - M.r}" y2="${y}" stroke="#ddd"/>`,
        `<text x="${M.l - 4}" y="${y + 4}" text-anchor="end">${v >= 100 ? v.toFixed(0) : v.toPrecision(2)}</text>`,
      );
    }
    for (const c of clients)
      out.push(`<text x="${xOf(c)}" y="${H - M.b + 16}" text-anchor="middle">${c}</text>`);
    out.push(
      `<text x="${W / 2}" y="${H - 6}" text-anchor="middle">clients</text>`,
      `<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${esc(unit)}</text>`,
    );
    for (const [id, rs] of series) {
      const sorted = [...rs].sort((a, b) => a.clients - b.clients);
      const color =
        COLORS[ops.indexOf(`${sorted[0]!.op} n=${sorted[0]!.replicas}`) % COLORS.length];
      const dash = sorted[0]!.system === "etcd" ? ' stroke-dasharray="6 4"' : "";
      const pts = sorted.map((r) => `${xOf(r.clients).toFixed(1)},${yOf(value(r)).toFixed(1)}`);
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(" ")}"><title>${esc(id)}</title></polyline>`,
      );
      for (const p of pts) {
        const [x, y] = p.split(",");
        out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
      }
    }
    out.push("</g>");
    return out.join("\n");
  };
  const legend: string[] = [];
  let i = 0;
  for (const [id, rs] of series) {
    const color = COLORS[ops.indexOf(`${rs[0]!.op} n=${rs[0]!.replicas}`) % COLORS.length];
    const dash = rs[0]!.system === "etcd" ? ' stroke-dasharray="6 4"' : "";
    const y = H + 14 + 16 * i++;
    legend.push(
      `<line x1="${M.l}" y1="${y - 4}" x2="${M.l + 30}" y2="${y - 4}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${M.l + 36}" y="${y}">${esc(id)}</text>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + legendH}" font-family="sans-serif" font-size="11">`,
    "<title>paxlog bench: throughput and p99 latency against clients, per system, operation and cluster size</title>",
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel(0, "throughput", (r) => r.opsPerSec, "ops/s"),
    panel(W, "p99 latency", (r) => r.p99, "ms"),
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
