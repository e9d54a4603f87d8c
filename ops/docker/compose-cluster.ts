/**
 * Talking to the compose cluster (docker-compose.yml) from the host: the
 * containers by their fixed names (paxlog-1.., paxlog-etcd) through the
 * docker CLI, and each replica's REST API on its published loopback port
 * (127.0.0.1:8080+id). A replica cut off by `partition` has no network at all,
 * published port included, so a request to it falls back to `docker exec`
 * (a fetch from inside its container). Used by ops/docker/status.sh, the demo
 * and the e2e tests.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import type { ClusterView } from "../../transport/rest/service";

export const NETWORK = process.env["PAXLOG_DOCKER_NETWORK"] ?? "paxlog";
export const ETCD_CONTAINER = "paxlog-etcd";
export const containerName = (id: number): string => `paxlog-${id}`;
export const hostUrl = (id: number): string => `http://127.0.0.1:${8080 + id}`;
/** The repository root (this file runs as dist/ops/docker/*.js). */
export const ROOT = path.resolve(__dirname, "../../..");
/** The REST path of a key (keys may hold "/"). */
export const kvPath = (key: string): string => `/v1/kv/${encodeURIComponent(key)}`;
export const script = (name: string): string => path.join(ROOT, "ops/docker", name);

export class CommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

/** Runs a program; resolves with its stdout, rejects with its stderr. */
export function run(
  file: string,
  args: readonly string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args as string[],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        if (error) {
          const what = `${path.basename(file)} ${args.join(" ")}`;
          reject(new CommandError(`${what}: ${stderr.trim() || error.message}`, stderr));
        } else resolve(stdout);
      },
    );
  });
}

export const docker = (args: readonly string[], timeoutMs = 60_000): Promise<string> =>
  run("docker", args, timeoutMs);

let composeV1: Promise<boolean> | null = null;

/**
 * docker-compose (v1, Debian) or `docker compose` (v2) on the repository's
 * docker-compose.yml; `env` reaches the file's ${...} settings.
 */
export async function compose(
  args: readonly string[],
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  composeV1 ??= run("docker-compose", ["version"], 10_000).then(
    () => true,
    () => false,
  );
  const [file, pre] = (await composeV1) ? ["docker-compose", []] : ["docker", ["compose"]];
  return run(file, ["-f", `${ROOT}/docker-compose.yml`, ...pre, ...args], timeoutMs, env);
}

export interface ContainerInfo {
  readonly id: number;
  readonly name: string;
  /** created | running | paused | restarting | exited | dead */
  readonly state: string;
  /** starting | healthy | unhealthy, or null without a healthcheck */
  readonly health: string | null;
  /** attached to the cluster network (false once partitioned) */
  readonly connected: boolean;
}

/** The replica containers that exist (running or not), by id. */
export async function containers(): Promise<ContainerInfo[]> {
  const names = (await docker(["ps", "-a", "--format", "{{.Names}}"]))
    .split("\n")
    .filter((n) => /^paxlog-\d+$/.test(n));
  if (names.length === 0) return [];
  const raw = JSON.parse(await docker(["inspect", ...names])) as Array<{
    Name: string;
    State: { Status: string; Health?: { Status: string } };
    NetworkSettings: { Networks: Record<string, unknown> };
  }>;
  return raw
    .map((c) => {
      const name = c.Name.replace(/^\//, "");
      return {
        id: Number(name.slice("paxlog-".length)),
        name,
        state: c.State.Status,
        health: c.State.Health?.Status ?? null,
        connected: NETWORK in c.NetworkSettings.Networks,
      };
    })
    .sort((a, b) => a.id - b.id);
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked by their users
export interface Answer<T = any> {
  readonly status: number;
  readonly body: T;
  /** X-Paxlog-Index of the answer */
  readonly index: number | null;
  /** how the request went: the published port, or docker exec into the container */
  readonly via: "host" | "exec";
}

export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
  /** "auto" (default): the published port, then docker exec if it cannot connect */
  readonly via?: "auto" | "host" | "exec";
}

// Runs inside a replica container: one request to its own REST port, the
// answer as one JSON line. argv[1] is the request as JSON.
const IN_CONTAINER = `const q = JSON.parse(process.argv[1]);
fetch("http://127.0.0.1:8080" + q.path, { method: q.method, headers: q.headers, body: q.body,
  signal: AbortSignal.timeout(q.timeoutMs) })
  .then(async (r) => console.log(JSON.stringify({ status: r.status, text: await r.text(),
    index: r.headers.get("x-paxlog-index") })))
  .catch((e) => { console.error(String(e && e.cause || e)); process.exit(1); });`;

/** One REST request to replica `id`. Rejects when neither way reaches it. */
export async function call(
  id: number,
  method: string,
  urlPath: string,
  options: CallOptions = {},
): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? 8_000;
  const headers = { "content-type": "application/json", ...options.headers };
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const via = options.via ?? "auto";
  if (via !== "exec") {
    try {
      const res = await fetchWithin(hostUrl(id) + urlPath, { method, headers, body }, timeoutMs);
      return answer(res.status, res.text, res.index, "host");
    } catch (error) {
      // A timeout is an answer of sorts (a paused or stuck replica): no fallback.
      if (via === "host" || (error as Error).name === "TimeoutError") throw error;
    }
  }
  const request = JSON.stringify({ method, path: urlPath, headers, body, timeoutMs });
  const out = await docker(
    ["exec", containerName(id), "node", "-e", IN_CONTAINER, request],
    timeoutMs + 5_000,
  );
  const parsed = JSON.parse(out) as { status: number; text: string; index: string | null };
  return answer(parsed.status, parsed.text, parsed.index, "exec");
}

/**
 * fetch with a deadline that holds the event loop open: a connection the
 * docker proxy accepts for a container that is still starting can leave a
 * fetch pending with nothing else alive, and AbortSignal.timeout's timer is
 * unref'd, so the process (or an ava worker) would just end.
 */
export async function fetchWithin(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string | undefined },
  timeoutMs: number,
): Promise<{ status: number; text: string; index: string | null }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer from ${url} within ${timeoutMs} ms`);
      error.name = "TimeoutError";
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        const res = await fetch(url, { ...init, signal: controller.signal });
        return {
          status: res.status,
          text: await res.text(),
          index: res.headers.get("x-paxlog-index"),
        };
      })(),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function answer(status: number, text: string, index: string | null, via: Answer["via"]): Answer {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the caller sees the text
  }
  return { status, body, index: index === null ? null : Number(index), via };
}

export interface ReplicaState {
  readonly id: number;
  readonly container: ContainerInfo;
  readonly view: ClusterView | null;
  /** why there is no view (stopped, paused, unreachable) */
  readonly error: string | null;
  readonly via: Answer["via"] | null;
}

/** Every replica's container state and /v1/cluster view, side by side. */
export async function replicaStates(timeoutMs = 2_000): Promise<ReplicaState[]> {
  const all = await containers();
  return Promise.all(
    all.map(async (c): Promise<ReplicaState> => {
      if (c.state !== "running")
        return { id: c.id, container: c, view: null, error: c.state, via: null };
      try {
        const a = await call(c.id, "GET", "/v1/cluster", { timeoutMs });
        if (a.status !== 200)
          return { id: c.id, container: c, view: null, error: `HTTP ${a.status}`, via: a.via };
        return { id: c.id, container: c, view: a.body as ClusterView, error: null, via: a.via };
      } catch (error) {
        const message = (error as Error).name === "TimeoutError" ? "no answer" : "unreachable";
        return { id: c.id, container: c, view: null, error: message, via: null };
      }
    }),
  );
}

/** The replica that says it leads (role "leader"), among those that answer. */
export function leaderOf(states: readonly ReplicaState[]): number | null {
  const leaders = states.filter((s) => s.view?.role === "leader").map((s) => s.id);
  return leaders.length === 1 ? leaders[0]! : null;
}

/** A fixed-width table of the states, for people. */
export function formatStates(states: readonly ReplicaState[]): string {
  const rows = [
    ["replica", "container", "role", "leader", "ballot", "chosen", "applied", "recov", "members"],
  ];
  for (const s of states) {
    const c = s.container;
    const container = `${c.state}${c.state === "running" && !c.connected ? ",partitioned" : ""}`;
    const v = s.view;
    if (!v) {
      rows.push([c.name, container, s.error ?? "-", "", "", "", "", "", ""]);
      continue;
    }
    rows.push([
      c.name,
      container,
      v.role,
      String(v.leader ?? "-"),
      `${v.ballot.round}.${v.ballot.nodeId}`,
      String(v.chosenIndex),
      String(v.appliedIndex),
      v.recovering ? "yes" : "no",
      v.members.map((m) => `${m.id}:${m.status}`).join(" "),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")).join("\n");
}

export interface Snapshot {
  readonly id: number;
  readonly status: number;
  /** sha256 of the items, as JSON */
  readonly digest: string;
  readonly items: number;
  readonly index: number | null;
  readonly via: Answer["via"];
}

/**
 * Every key of replica `id` (up to 10,000), read sequentially once it has
 * applied `minIndex`, with a digest of the items for comparison.
 */
export async function snapshotOf(id: number, minIndex: number, timeoutMs = 10_000) {
  const a = await call(id, "GET", "/v1/kv?prefix=&limit=10000&consistency=sequential", {
    headers: { "X-Paxlog-Min-Index": String(minIndex) },
    timeoutMs,
  });
  const items = a.status === 200 ? (a.body.items as unknown[]) : [];
  if (a.status === 200 && a.body.more) throw new Error(`replica ${id} holds over 10,000 keys`);
  return {
    id,
    status: a.status,
    digest: createHash("sha256").update(JSON.stringify(items)).digest("hex").slice(0, 16),
    items: items.length,
    index: a.index,
    via: a.via,
  } satisfies Snapshot;
}

export interface WriterStats {
  readonly ok: number;
  readonly failed: number;
  /** highest log index a write answered */
  readonly lastIndex: number;
  /** when each successful write started and completed (ms since the epoch) */
  readonly okWrites: readonly { readonly start: number; readonly end: number }[];
}

/**
 * A bounded client load: `workers` loops, each writing one key after another
 * (keys `${prefix}w<worker>/k<0..keys-1>`), every request to the next replica
 * in turn. Stops at `stop()` or after `maxMs`.
 */
export class Writer {
  private running = true;
  private readonly done: Promise<void>;
  private okCount = 0;
  private failCount = 0;
  private highest = 0;
  private readonly writes: { start: number; end: number }[] = [];

  constructor(
    private readonly ids: readonly number[],
    readonly options: {
      workers?: number;
      prefix?: string;
      keys?: number;
      maxMs?: number;
      timeoutMs?: number;
    } = {},
  ) {
    const workers = options.workers ?? 4;
    const deadline = Date.now() + (options.maxMs ?? 120_000);
    this.done = Promise.all(
      Array.from({ length: workers }, (_, w) => this.loop(w, workers, deadline)),
    ).then(() => {});
  }

  private async loop(worker: number, workers: number, deadline: number): Promise<void> {
    const keys = this.options.keys ?? 50;
    const prefix = this.options.prefix ?? "load/";
    for (let seq = 0; this.running && Date.now() < deadline; seq++) {
      const id = this.ids[(seq * workers + worker) % this.ids.length]!;
      const start = Date.now();
      try {
        const key = encodeURIComponent(`${prefix}w${worker}/k${seq % keys}`);
        const res = await fetchWithin(
          `${hostUrl(id)}/v1/kv/${key}`,
          {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ value: String(seq) }),
          },
          this.options.timeoutMs ?? 6_000,
        );
        let body: { index?: number } | null = null;
        try {
          body = JSON.parse(res.text);
        } catch {
          // not JSON: a failure
        }
        if (res.status === 200 && typeof body?.index === "number") {
          this.okCount++;
          this.highest = Math.max(this.highest, body.index);
          this.writes.push({ start, end: Date.now() });
          continue;
        }
      } catch {
        // a crashed, paused or partitioned replica: counted below, next replica
      }
      this.failCount++;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get stats(): WriterStats {
    return {
      ok: this.okCount,
      failed: this.failCount,
      lastIndex: this.highest,
      okWrites: this.writes,
    };
  }

  /** When the first successful write that started after `since` completed (ms since the epoch). */
  firstOkStartedAfter(since: number): number | null {
    let first: number | null = null;
    for (const w of this.writes)
      if (w.start > since && (first === null || w.end < first)) first = w.end;
    return first;
  }

  /** Successful writes that completed in [from, to). */
  okBetween(from: number, to = Date.now()): number {
    return this.writes.filter((w) => w.end >= from && w.end < to).length;
  }

  async stop(): Promise<WriterStats> {
    this.running = false;
    await this.done;
    return this.stats;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it gives a truthy value, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  cond: () => Promise<T | null | undefined | false>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond().catch(() => null);
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}
