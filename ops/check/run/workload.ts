import { performance } from "node:perf_hooks";
import type { HistoryEntry, Op, Result } from "../history";
import { Rng } from "./rng";

/**
 * Closed-loop clients for a `paxlog check` run. Each has its own
 * X-Paxlog-Client-Id and increasing X-Paxlog-Request-Id, and records every
 * operation in the checker's history format.
 *
 * Outcomes, per attempt:
 * - 2xx (and 404 NOT_FOUND for a get): acknowledged, recorded with its result;
 * - another 4xx: definitely not applied (e.g. 422 incr on a non-integer): dropped
 *   from the history (a 409 after a retry of the same id is not expected; it is
 *   recorded as unknown to stay safe, and counted);
 * - 503, 5xx, a timeout or a connection error: the effect is unknown, so the
 *   same request (same request id: exactly once makes that safe) is retried on
 *   the next replica until the per-op deadline; then it is recorded as unknown.
 */

export type OpKindMix = Readonly<Record<OpChoice, number>>;
export type OpChoice = "lin-get" | "seq-get" | "put" | "delete" | "cas" | "incr" | "append" | "txn";

export const DEFAULT_MIX: OpKindMix = {
  "lin-get": 25,
  "seq-get": 15,
  put: 18,
  delete: 4,
  cas: 12,
  incr: 10,
  append: 8,
  txn: 8,
};

export interface WorkloadSettings {
  readonly urls: readonly string[];
  readonly keys: readonly string[];
  /** Keys a txn touches (a subset of `keys`: fewer txn keys keep partitions small). */
  readonly txnKeys: readonly string[];
  readonly clients: number;
  readonly seed: number;
  readonly attemptTimeoutMs: number;
  readonly opDeadlineMs: number;
  /** Milliseconds each client waits between two ops. */
  readonly thinkMs: number;
  readonly mix?: OpKindMix;
  /**
   * A planted bug for testing the harness: client 1's sequential reads are
   * recorded as linearizable, so a stale one should show up as a violation.
   */
  readonly mislabelSequential?: boolean;
  /**
   * Put before each client's name in X-Paxlog-Client-Id: a cluster that
   * served an earlier run still remembers that run's client ids.
   */
  readonly clientIdPrefix?: string;
}

export type Outcome = "ok" | "unknown" | "failed";

export interface OpStats {
  readonly byKindOutcome: Map<string, number>;
  readonly unexpected409: number;
  readonly retries: number;
}

/** One acked write: when its successful attempt started and when it returned. */
export interface AckedWrite {
  readonly attemptStart: number;
  readonly returnTime: number;
}

export class Workload {
  readonly history: HistoryEntry[] = [];
  readonly ackedWrites: AckedWrite[] = [];
  readonly byKindOutcome = new Map<string, number>();
  unexpected409 = 0;
  retries = 0;
  invoked = 0;
  private nextId = 0;
  private stopping = false;
  private maxOpsReached = false;
  private readonly t0: number;
  private readonly mix: OpKindMix;
  private running: Promise<void>[] = [];

  constructor(
    readonly settings: WorkloadSettings,
    t0: number,
    /** Called with each entry as it completes (the run appends it to history.jsonl). */
    private readonly onEntry: (e: HistoryEntry) => void = () => {},
    /** Stop invoking once this many ops were invoked (Infinity: no bound). */
    private readonly maxOps = Number.POSITIVE_INFINITY,
  ) {
    this.t0 = t0;
    this.mix = settings.mix ?? DEFAULT_MIX;
  }

  now(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }

  start(): void {
    for (let c = 1; c <= this.settings.clients; c++) {
      this.running.push(this.clientLoop(c));
    }
  }

  get done(): boolean {
    return this.invoked >= this.maxOps;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    // The closed loops are over; ops run afterwards (the final reads) retry normally.
    this.stopping = false;
    this.maxOpsReached = true;
  }

  private async clientLoop(c: number): Promise<void> {
    const client = new Client(
      c,
      `c${c}`,
      new Rng(this.settings.seed * 7919 + c),
      this.settings,
      this.mix,
    );
    while (!this.stopping && !this.maxOpsReached && this.invoked < this.maxOps) {
      this.invoked++;
      await this.runOne(client);
      if (this.settings.thinkMs > 0) await sleep(this.settings.thinkMs);
    }
  }

  /** Records one op by a client outside the closed loop (the final reads). */
  async runOp(client: Client, op: Op): Promise<HistoryEntry | null> {
    return this.execute(client, op);
  }

  private async runOne(client: Client): Promise<void> {
    await this.execute(client, client.nextOp());
  }

  private async execute(client: Client, op: Op): Promise<HistoryEntry | null> {
    const id = this.nextId++;
    const invokeTime = this.now();
    const requestId = op.kind === "get" ? 0 : client.nextRequestId();
    const deadline = invokeTime + this.settings.opDeadlineMs;
    let attempt = 0;
    let outcome: {
      kind: Outcome;
      result?: Result;
      current?: string | null;
      attemptStart?: number;
    } = { kind: "unknown" };
    for (;;) {
      const url = this.settings.urls[(client.home + attempt) % this.settings.urls.length]!;
      const attemptStart = this.now();
      const answer = await client.send(url, op, requestId, this.settings.attemptTimeoutMs);
      if (answer.kind === "ok") {
        outcome = { kind: "ok", result: answer.result, current: answer.current, attemptStart };
        break;
      }
      if (answer.kind === "failed") {
        outcome = { kind: "failed" };
        break;
      }
      if (answer.kind === "stale") {
        this.unexpected409++;
        outcome = { kind: "unknown" };
        break;
      }
      attempt++;
      if (this.stopping || this.now() + 100 >= deadline) break;
      this.retries++;
      await sleep(Math.min(50 * attempt, 300));
      if (this.now() >= deadline) break;
    }
    const returnTime = this.now();
    const recordedOp =
      this.settings.mislabelSequential && client.num === 1 && op.kind === "get"
        ? { ...op, consistency: "linearizable" as const }
        : op;
    const kindName =
      op.kind === "get" ? `get-${op.consistency === "sequential" ? "seq" : "lin"}` : op.kind;
    const counted = `${kindName}/${outcome.kind}`;
    this.byKindOutcome.set(counted, (this.byKindOutcome.get(counted) ?? 0) + 1);
    if (outcome.kind === "failed") return null;
    const entry = {
      id,
      clientId: client.name,
      invokeTime,
      returnTime: outcome.kind === "ok" ? returnTime : Number.POSITIVE_INFINITY,
      op: recordedOp,
      result: outcome.kind === "ok" ? outcome.result! : { status: "unknown" },
    } as HistoryEntry;
    if (outcome.kind === "ok") {
      client.observe(op, outcome.result!, outcome.current);
      if (op.kind !== "get")
        this.ackedWrites.push({ attemptStart: outcome.attemptStart!, returnTime });
    }
    this.history.push(entry);
    this.onEntry(entry);
    return entry;
  }
}

type Answer =
  | { kind: "ok"; result: Result; current?: string | null }
  | { kind: "failed" }
  | { kind: "stale" }
  | { kind: "retry"; why: string };

export class Client {
  private requestId = 0;
  private seq = 0;
  lastIndex = 0;
  private readonly lastSeen = new Map<string, string | null>();
  readonly home: number;

  constructor(
    readonly num: number,
    readonly name: string,
    private readonly rng: Rng,
    private readonly settings: WorkloadSettings,
    private readonly mix: OpKindMix,
  ) {
    this.home = Math.max(0, num - 1);
  }

  nextRequestId(): number {
    return ++this.requestId;
  }

  /** A value no other op writes: integers far apart, so incr results do not collide soon. */
  private unique(): string {
    this.seq++;
    return String(this.num * 1_000_000_000 + this.seq * 1000);
  }

  nextOp(): Op {
    const keys = this.settings.keys;
    const key = this.rng.pick(keys);
    switch (this.rng.weighted(this.mix)) {
      case "lin-get":
        return { kind: "get", key, consistency: "linearizable" };
      case "seq-get":
        return { kind: "get", key, consistency: "sequential" };
      case "put":
        return { kind: "put", key, value: this.unique() };
      case "delete":
        return { kind: "delete", key };
      case "cas": {
        const seen = this.lastSeen.get(key);
        return {
          kind: "cas",
          key,
          expected: seen === undefined ? null : seen,
          value: this.unique(),
        };
      }
      case "incr":
        return { kind: "incr", key, by: this.rng.int(1, 5) };
      case "append":
        this.seq++;
        return { kind: "append", key, suffix: `x${this.num}.${this.seq}` };
      case "txn": {
        const [a, b] = this.rng.sample(this.settings.txnKeys, 2) as [string, string];
        return this.rng.next() < 0.2
          ? { kind: "txn", puts: [{ key: a, value: this.unique() }], deletes: [b] }
          : {
              kind: "txn",
              puts: [
                { key: a, value: this.unique() },
                { key: b, value: this.unique() },
              ],
              deletes: [],
            };
      }
    }
  }

  /** Remembers what it saw (cas expectations, the min-index token). */
  observe(op: Op, result: Result, current?: string | null): void {
    if (result.status !== "ok") return;
    const r = result as unknown as Record<string, unknown>;
    if (typeof r["index"] === "number") this.lastIndex = Math.max(this.lastIndex, r["index"]);
    switch (op.kind) {
      case "get":
      case "incr":
      case "append":
        this.lastSeen.set(op.key, r["value"] as string | null);
        break;
      case "put":
        this.lastSeen.set(op.key, op.value);
        break;
      case "delete":
        this.lastSeen.set(op.key, null);
        break;
      case "cas":
        if (r["succeeded"]) this.lastSeen.set(op.key, op.value);
        else if (current !== undefined) this.lastSeen.set(op.key, current);
        break;
      default:
        break;
    }
  }

  async send(url: string, op: Op, requestId: number, timeoutMs: number): Promise<Answer> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (requestId > 0) {
      headers["X-Paxlog-Client-Id"] = (this.settings.clientIdPrefix ?? "") + this.name;
      headers["X-Paxlog-Request-Id"] = String(requestId);
    }
    let method = "GET";
    let path: string;
    let body: unknown;
    const k = (key: string) => encodeURIComponent(key);
    switch (op.kind) {
      case "get":
        path = `/v1/kv/${k(op.key)}?consistency=${op.consistency ?? "linearizable"}`;
        if (op.consistency === "sequential") headers["X-Paxlog-Min-Index"] = String(this.lastIndex);
        break;
      case "put":
        method = "PUT";
        path = `/v1/kv/${k(op.key)}`;
        body = { value: op.value };
        break;
      case "delete":
        method = "DELETE";
        path = `/v1/kv/${k(op.key)}`;
        break;
      case "cas":
        method = "POST";
        path = `/v1/kv/${k(op.key)}/cas`;
        body = { expected: op.expected, value: op.value };
        break;
      case "incr":
        method = "POST";
        path = `/v1/kv/${k(op.key)}/incr`;
        body = { by: op.by };
        break;
      case "append":
        method = "POST";
        path = `/v1/kv/${k(op.key)}/append`;
        body = { value: op.suffix };
        break;
      case "txn":
        method = "POST";
        path = "/v1/txn";
        body = { puts: op.puts, deletes: op.deletes };
        break;
    }
    let status: number;
    let json: Record<string, unknown>;
    try {
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      status = res.status;
      json = (await res.json()) as Record<string, unknown>;
    } catch (error) {
      return { kind: "retry", why: (error as Error).name };
    }
    const index = typeof json["index"] === "number" ? json["index"] : undefined;
    const withIndex = <T extends object>(r: T) => (index === undefined ? r : { ...r, index });
    if (status === 200) {
      switch (op.kind) {
        case "get":
        case "incr":
        case "append":
          return {
            kind: "ok",
            result: withIndex({ status: "ok", value: json["value"] as string }),
          };
        case "delete":
          return {
            kind: "ok",
            result: withIndex({ status: "ok", deleted: json["deleted"] as boolean }),
          };
        case "cas":
          return {
            kind: "ok",
            result: withIndex({ status: "ok", succeeded: json["succeeded"] as boolean }),
            // On failure the answer carries the current value: the next expectation.
            current: (json["value"] as string | undefined) ?? null,
          };
        case "put":
        case "txn":
          return { kind: "ok", result: withIndex({ status: "ok" }) };
      }
    }
    if (
      status === 404 &&
      op.kind === "get" &&
      json["code"] === "NOT_FOUND" &&
      index !== undefined
    ) {
      return { kind: "ok", result: withIndex({ status: "ok", value: null }) };
    }
    if (status === 409) return { kind: "stale" };
    if (status >= 400 && status < 500) return { kind: "failed" };
    return { kind: "retry", why: String(status) };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
