import restify, { type Request, type Response } from "restify";
import { type CommandResult, type Limits, parseCommand } from "../../domain";
import type { KvProjection } from "../../projections/kv-projection";
import { get, listKeys, multiGet, range } from "../../projections/queries";
import { errorFields, type Logger } from "../log";
import { ClientIdLanes } from "./client-ids";
import { coalesceWrites } from "./coalesce-writes";
import { badRequest, type HttpError, httpError, statusOf, unavailable } from "./errors";
import { readJsonBody } from "./json-body";
import type { Consistency, KvService } from "./service";

export interface RestOptions {
  readonly nodeId: number;
  readonly limits: Limits;
  readonly requestTimeoutMs: number;
  /** Most items a list or range answers when the client gives no limit. */
  readonly defaultListLimit?: number;
}

const INDEX_HEADER = "X-Paxlog-Index";
const MAX_LIST_LIMIT = 10_000;

type Handler = (req: Request, res: Response) => Promise<void>;

/** What a read asks for: its guarantee, and the least index the state must reflect. */
interface ReadRequest {
  readonly consistency: Consistency;
  readonly minIndex: number;
}

/**
 * The client API (restify, JSON). It only translates: HTTP into commands
 * and queries, results and errors into HTTP. Every answer carries the log
 * index it reflects in X-Paxlog-Index; errors are `{error, code}`.
 */
export class RestApi {
  private readonly server: restify.Server;
  private readonly lanes: ClientIdLanes;
  /** The largest request body read: a maximal value with JSON escaping, and the envelope. */
  private readonly maxBodyBytes: number;

  constructor(
    private readonly service: KvService,
    private readonly options: RestOptions,
    private readonly log: Logger,
  ) {
    this.lanes = new ClientIdLanes(options.nodeId);
    this.server = restify.createServer({
      name: "paxlog",
      handleUncaughtExceptions: false,
      // Passed through to find-my-way, whose default (100) would 404 most keys
      // the domain accepts: give room for a percent-encoded maximal key, so an
      // oversized one reaches validation and gets its 413.
      maxParamLength: Math.max(4096, options.limits.maxKeyBytes * 12),
    } as restify.ServerOptions);
    // Answers completed in one turn leave in one send per connection (coalesce-writes.ts).
    this.server.server.on("connection", coalesceWrites);
    // Values may be up to maxValueBytes; leave room for JSON escaping and the envelope.
    this.maxBodyBytes = options.limits.maxValueBytes * 2 + 64 * 1024;
    // restify's own errors (no route, method not allowed, a malformed URL)
    // answer in our format; bodies are read by readJsonBody, not restify.
    this.server.on(
      "restifyError",
      (
        _req: Request,
        res: Response,
        err: Error & { statusCode?: number },
        callback: () => void,
      ) => {
        const status = err.statusCode ?? 500;
        const code =
          status === 404
            ? "NOT_FOUND"
            : status === 405
              ? "METHOD_NOT_ALLOWED"
              : status < 500
                ? "BAD_REQUEST"
                : "INTERNAL";
        const body = { error: status < 500 ? err.message : "internal error", code };
        (err as unknown as { toJSON: () => unknown }).toJSON = () => body;
        if (status >= 500) this.log.error("restify error", { error: errorFields(err) });
        res.setHeader(INDEX_HEADER, String(this.appliedIndex()));
        callback();
      },
    );
    this.routes();
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () =>
        resolve((this.server.address() as { port: number }).port),
      );
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private appliedIndex(): number {
    return this.service.appliedIndex;
  }

  /** Status and admin answers need a started replica: until then, 503 (it is starting). */
  private requireServing(): void {
    if (!this.service.serving) throw unavailable("not serving yet", 1);
  }

  private routes(): void {
    const s = this.server;
    s.get(
      "/healthz",
      this.handle(async (_req, res) => {
        this.requireServing();
        this.send(res, 200, { ok: true }, this.appliedIndex());
      }),
    );
    s.get(
      "/v1/cluster",
      this.handle(async (req, res) => {
        this.requireServing();
        const view = await this.service.cluster(this.query(req).get("local") === "true");
        this.send(res, 200, view, view.appliedIndex);
      }),
    );
    s.get(
      "/v1/admin/digest",
      this.handle(async (_req, res) => {
        this.requireServing();
        const d = this.service.digest();
        this.send(res, 200, d, d.index);
      }),
    );
    s.post(
      "/v1/admin/replay",
      this.handle(async (_req, res) => {
        this.requireServing();
        const report = this.service.replay();
        this.send(res, report.match ? 200 : 500, report, report.appliedIndex);
      }),
    );
    s.put(
      "/v1/kv/:key",
      this.commandWithBody((req) => ({
        type: "put",
        key: this.key(req),
        value: this.bodyField(req, "value"),
      })),
    );
    s.del(
      "/v1/kv/:key",
      this.command((req) => ({ type: "delete", key: this.key(req) })),
    );
    s.post(
      "/v1/kv/:key/cas",
      this.commandWithBody((req) => {
        const body = this.body(req);
        if (!("expected" in body))
          throw badRequest('body needs "expected" (a string, or null for "must be absent")');
        return {
          type: "cas",
          key: this.key(req),
          expected: body["expected"],
          value: body["value"],
          ...(body["expectedVersion"] === undefined
            ? {}
            : { expectedVersion: body["expectedVersion"] }),
        };
      }),
    );
    s.post(
      "/v1/kv/:key/incr",
      this.commandWithBody((req) => {
        const body = this.body(req, true);
        return { type: "incr", key: this.key(req), by: body["by"] === undefined ? 1 : body["by"] };
      }),
    );
    s.post(
      "/v1/kv/:key/append",
      this.commandWithBody((req) => ({
        type: "append",
        key: this.key(req),
        suffix: this.bodyField(req, "value"),
      })),
    );
    s.post(
      "/v1/txn",
      this.commandWithBody((req) => {
        const body = this.body(req);
        return { type: "putMany", puts: body["puts"] ?? [], deletes: body["deletes"] ?? [] };
      }),
    );
    s.get(
      "/v1/kv/:key",
      this.handle(async (req, res) => {
        const key = this.key(req);
        const q = this.query(req);
        const read = this.readRequest(req, q);
        const view = this.viewNow(read) ?? (await this.view(read));
        const answer = get(view, key);
        if (!answer.item) {
          this.send(
            res,
            404,
            { error: `key not found: ${key}`, code: "NOT_FOUND", index: answer.index },
            answer.index,
          );
          return;
        }
        const { value, version } = answer.item;
        this.send(res, 200, { key, value, version, index: answer.index }, answer.index);
      }),
    );
    s.get(
      "/v1/kv",
      this.handle(async (req, res) => {
        const q = this.query(req);
        const modes = ["keys", "prefix", "start"].filter((m) => q.get(m) !== undefined);
        if (modes.length !== 1)
          throw badRequest("give exactly one of ?keys=a,b,c  ?prefix=p  ?start=a&end=b");
        const read = this.readRequest(req, q);
        const view = this.viewNow(read) ?? (await this.view(read));
        const limit = this.limit(q);
        let items: { key: string; value: string; version: number }[];
        let more = false;
        const [keyList, prefix] = [q.get("keys"), q.get("prefix")];
        if (keyList !== undefined) {
          const keys = keyList.split(",").filter((k) => k.length > 0);
          if (keys.length > MAX_LIST_LIMIT) throw badRequest(`at most ${MAX_LIST_LIMIT} keys`);
          items = multiGet(view, keys).items.flatMap((i) => (i ? [i] : []));
        } else {
          // One mode was given: a prefix, or a start.
          const start = prefix ?? q.get("start") ?? "";
          const end = prefix !== undefined ? prefixEnd(prefix) : q.get("end");
          const answer = range(view, start, end, limit);
          items = [...answer.items];
          more = answer.more;
        }
        const index = view.appliedIndex;
        this.send(
          res,
          200,
          { items: items.map(({ key, value, version }) => ({ key, value, version })), more, index },
          index,
        );
      }),
    );
    s.get(
      "/v1/keys",
      this.handle(async (req, res) => {
        const q = this.query(req);
        const read = this.readRequest(req, q);
        const view = this.viewNow(read) ?? (await this.view(read));
        const answer = listKeys(view, q.get("prefix") ?? "", this.limit(q), q.get("after"));
        this.send(
          res,
          200,
          { keys: answer.items, more: answer.more, index: answer.index },
          answer.index,
        );
      }),
    );
  }

  /** A command route whose request has a JSON body (read into `req.body` first). */
  private commandWithBody(
    build: (req: Request) => Record<string, unknown>,
  ): restify.RequestHandler {
    return this.command(build, true);
  }

  /**
   * A route that turns the request into a command and answers with its
   * result. `build` returns a new object each time: the request's identity
   * is added to it.
   */
  private command(
    build: (req: Request) => Record<string, unknown>,
    readsBody = false,
  ): restify.RequestHandler {
    return this.handle(async (req, res) => {
      if (readsBody) req.body = await readJsonBody(req, this.maxBodyBytes);
      const shape = build(req);
      const identity = this.identity(req);
      try {
        // Added to the fresh object rather than spread into a new one: V8
        // clones a spread source with extra properties slowly (about 0.9 µs
        // against a few ns in a microbenchmark here).
        shape["clientId"] = identity.clientId;
        shape["requestId"] = identity.requestId;
        const parsed = parseCommand(shape, this.options.limits);
        if (!parsed.ok)
          throw httpError(statusOf(parsed.error.code), parsed.error.code, parsed.error.message);
        const outcome = await this.service.command(parsed.value, this.options.requestTimeoutMs);
        if (outcome.kind === "unavailable")
          throw unavailable(outcome.reason, outcome.retryAfterSeconds);
        this.answer(res, outcome.result);
      } finally {
        identity.release();
      }
    });
  }

  private answer(res: Response, result: CommandResult): void {
    const { index } = result;
    switch (result.type) {
      case "put":
      case "incr":
      case "append":
        this.send(
          res,
          200,
          { key: result.key, value: result.value, version: result.version, index },
          index,
        );
        return;
      case "deleted":
        this.send(res, 200, { key: result.key, deleted: result.deleted, index }, index);
        return;
      case "cas":
        this.send(
          res,
          200,
          {
            succeeded: result.succeeded,
            key: result.key,
            value: result.value,
            version: result.version,
            index,
          },
          index,
        );
        return;
      case "txn":
      case "read":
        this.send(res, 200, { index }, index);
        return;
      case "rejected":
        this.send(
          res,
          statusOf(result.code),
          { error: result.message, code: result.code, index },
          index,
        );
        return;
    }
  }

  /** The caller's request identity, or a borrowed lane when it sent none. */
  private identity(req: Request): { clientId: string; requestId: number; release: () => void } {
    const clientId = req.header("X-Paxlog-Client-Id");
    const requestId = req.header("X-Paxlog-Request-Id");
    if (clientId === undefined && requestId === undefined) return this.lanes.take();
    if (clientId === undefined || requestId === undefined) {
      throw badRequest("send both X-Paxlog-Client-Id and X-Paxlog-Request-Id, or neither");
    }
    const n = Number(requestId);
    if (!Number.isSafeInteger(n) || n < 1)
      throw badRequest("X-Paxlog-Request-Id must be a positive integer, increasing per client");
    return { clientId, requestId: n, release: () => {} };
  }

  /** The read a request asks for (its query and X-Paxlog-Min-Index), validated. */
  private readRequest(req: Request, q: ReadonlyMap<string, string>): ReadRequest {
    const consistency = (q.get("consistency") ?? "linearizable") as Consistency;
    if (consistency !== "linearizable" && consistency !== "sequential") {
      throw badRequest('consistency must be "linearizable" or "sequential"');
    }
    const rawMin = req.header("X-Paxlog-Min-Index");
    const minIndex = rawMin === undefined ? 0 : Number(rawMin);
    if (!Number.isSafeInteger(minIndex) || minIndex < 0)
      throw badRequest("X-Paxlog-Min-Index must be a non-negative integer");
    return { consistency, minIndex };
  }

  /**
   * A sequential read's state when this replica has already applied what the
   * client saw, taken without a promise (the awaits of `view` cost about
   * 0.5 µs a request, 2–3% of a sequential read's server CPU); else null.
   */
  private viewNow(read: ReadRequest): KvProjection | null {
    return read.consistency === "sequential" ? this.service.appliedView(read.minIndex) : null;
  }

  /** The state a read answers from, once this replica may answer it. */
  private async view(read: ReadRequest): Promise<KvProjection> {
    const outcome = await this.service.readView(
      read.consistency,
      read.minIndex,
      this.options.requestTimeoutMs,
    );
    if (outcome.kind === "unavailable")
      throw unavailable(outcome.reason, outcome.retryAfterSeconds);
    return outcome.view;
  }

  private key(req: Request): string {
    const key = req.params?.["key"];
    if (typeof key !== "string") throw badRequest("missing key");
    return key;
  }

  private body(req: Request, optional = false): Record<string, unknown> {
    const body: unknown = req.body;
    if ((body === undefined || body === null || body === "") && optional) return {};
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw badRequest("the body must be a JSON object");
    return body as Record<string, unknown>;
  }

  private bodyField(req: Request, field: string): unknown {
    const body = this.body(req);
    if (!(field in body)) throw badRequest(`body needs "${field}"`);
    return body[field];
  }

  /**
   * The query's parameters, each given once. Parsed here, by the routes that
   * read them, rather than by a `use` handler: each handler in restify's
   * chain costs a tick and two timer readings per request.
   */
  private query(req: Request): ReadonlyMap<string, string> {
    const url = req.url ?? "";
    const at = url.indexOf("?");
    if (at < 0) return NO_PARAMS;
    const q = parseQueryString(url.slice(at + 1));
    for (const [k, v] of q)
      if (typeof v !== "string") throw badRequest(`query parameter ${k} given more than once`);
    return q as ReadonlyMap<string, string>;
  }

  private limit(q: ReadonlyMap<string, string>): number {
    if (q.get("limit") === undefined) return this.options.defaultListLimit ?? 1000;
    const n = Number(q.get("limit"));
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIST_LIMIT)
      throw badRequest(`limit must be 1..${MAX_LIST_LIMIT}`);
    return n;
  }

  /**
   * Our answers are always JSON objects: written directly, without restify's
   * content negotiation and formatter chain (less work per request; no
   * throughput change was measurable above the bench's noise). Headers set
   * before (Retry-After, restify's Server) are kept.
   */
  private send(res: Response, status: number, body: unknown, index: number): void {
    // An answer was already written: a late failure has nothing left to say.
    if (res.headersSent) return;
    const json = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(json),
      [INDEX_HEADER]: String(index),
    });
    res.end(json);
  }

  /** The boundary: every failure becomes a JSON answer, never a crash. */
  private handle(fn: Handler): restify.RequestHandler {
    return (req, res, next) => {
      fn(req, res).then(
        () => next(),
        (error: unknown) => {
          if (isHttpError(error)) {
            if (error.retryAfterSeconds !== undefined)
              res.setHeader("Retry-After", String(error.retryAfterSeconds));
            this.send(
              res,
              error.status,
              { error: error.error, code: error.code },
              this.appliedIndex(),
            );
          } else {
            this.log.error("request failed", {
              method: req.method,
              url: req.url,
              error: errorFields(error),
            });
            this.send(res, 500, { error: "internal error", code: "INTERNAL" }, this.appliedIndex());
          }
          next();
        },
      );
    };
  }
}

/** Query parameters by name; a name given more than once holds every value. */
type QueryParams = Map<string, string | string[]>;

const NO_PARAMS: ReadonlyMap<string, string> = new Map();

/**
 * Flat query parameters (`?a=1&a=2` gives an array, which `query()` refuses).
 * restify's queryParser builds nested objects with qs, and node:querystring
 * decodes every byte; either cost a tenth or more of a sequential read's
 * server time, and no route takes nested parameters. A Map rather than an
 * object: a null-prototype object (no `__proto__` pollution) costs V8 about
 * 0.6 µs to fill with one parameter, a Map 0.12.
 */
export function parseQueryString(raw: string): QueryParams {
  const out: QueryParams = new Map();
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(part.slice(eq + 1));
    const seen = out.get(name);
    out.set(name, seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value]);
  }
  return out;
}

/** Form decoding ("+" is a space); a malformed escape is kept as sent, like node:querystring. */
function decodeComponent(s: string): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  const spaced = s.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function isHttpError(e: unknown): e is HttpError {
  return typeof e === "object" && e !== null && "status" in e && "code" in e && "error" in e;
}

/** The smallest string above every string with this prefix (for prefix ranges). */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}
