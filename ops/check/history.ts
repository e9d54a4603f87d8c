/**
 * Client histories for the linearizability and sequential-consistency checkers.
 *
 * A history is the list of operations clients invoked against the store, each with
 * the real-time interval during which it was outstanding and the output observed.
 *
 * What goes in a history:
 * - every operation whose outcome is known (acknowledged with a result), and
 * - every operation whose outcome is unknown (timeout, lost connection, crashed
 *   replica): it may or may not have taken effect, so its result is `unknown`.
 *   The checker treats it as returning at +infinity (whatever `returnTime` says,
 *   which is kept only for display) and does not constrain its output.
 *
 * What does NOT go in a history: operations that definitely did not take effect
 * (a 4xx, a validation error, an incr on a non-integer value). The caller drops
 * them; leaving them in would make the checker demand that they took effect.
 *
 * Times are numbers in any monotonic unit (the checker only compares them). Two
 * events at the same instant are treated as concurrent (an invoke at time t
 * overlaps a return at time t), which is the permissive reading of a tie.
 */

/** How a read was served (DESIGN.md §3). Sequential reads are not linearizable. */
export type ReadConsistency = "linearizable" | "sequential";

export interface GetOp {
  readonly kind: "get";
  readonly key: string;
  /** Defaults to linearizable. Sequential reads are skipped by the linearizability check. */
  readonly consistency?: ReadConsistency;
}
export interface PutOp {
  readonly kind: "put";
  readonly key: string;
  readonly value: string;
}
export interface DeleteOp {
  readonly kind: "delete";
  readonly key: string;
}
export interface CasOp {
  readonly kind: "cas";
  readonly key: string;
  /** `null` means "the key must be absent". */
  readonly expected: string | null;
  readonly value: string;
}
export interface IncrOp {
  readonly kind: "incr";
  readonly key: string;
  readonly by: number;
}
export interface AppendOp {
  readonly kind: "append";
  readonly key: string;
  readonly suffix: string;
}
export interface TxnPut {
  readonly key: string;
  readonly value: string;
}
/** An atomic multi-key write: all puts, then all deletes, as one step. */
export interface TxnOp {
  readonly kind: "txn";
  readonly puts: readonly TxnPut[];
  readonly deletes: readonly string[];
}

export type Op = GetOp | PutOp | DeleteOp | CasOp | IncrOp | AppendOp | TxnOp;
export type OpKind = Op["kind"];

/** Every acknowledged result may carry the log index it reflects (DESIGN.md §3). */
interface Acked {
  readonly status: "ok";
  readonly index?: number;
}
export interface GetResult extends Acked {
  readonly value: string | null;
}
export type PutResult = Acked;
export interface DeleteResult extends Acked {
  /** Whether the key existed. */
  readonly deleted: boolean;
}
export interface CasResult extends Acked {
  readonly succeeded: boolean;
}
/** incr and append return the new value. */
export interface ValueResult extends Acked {
  readonly value: string;
}
export type TxnResult = Acked;

/** The outcome is not known: the op may or may not have taken effect. */
export interface UnknownResult {
  readonly status: "unknown";
}

interface ResultOf {
  readonly get: GetResult;
  readonly put: PutResult;
  readonly delete: DeleteResult;
  readonly cas: CasResult;
  readonly incr: ValueResult;
  readonly append: ValueResult;
  readonly txn: TxnResult;
}

export type Result = ResultOf[OpKind] | UnknownResult;

interface EntryFields {
  /** Unique within the history. */
  readonly id: number;
  readonly clientId: string;
  readonly invokeTime: number;
  /** `Infinity` if the client never saw a return; ignored (treated as +∞) when unknown. */
  readonly returnTime: number;
}

/** One client operation; `op.kind` discriminates and fixes the result's shape. */
export type HistoryEntry = {
  readonly [K in OpKind]: EntryFields & {
    readonly op: Extract<Op, { readonly kind: K }>;
    readonly result: ResultOf[K] | UnknownResult;
  };
}[OpKind];

export type History = readonly HistoryEntry[];

/** The keys an operation reads or writes. */
export function keysOf(op: Op): readonly string[] {
  if (op.kind === "txn") {
    return [...new Set([...op.puts.map((p) => p.key), ...op.deletes])];
  }
  return [op.key];
}

/** The return time the checker uses: +∞ when the outcome is unknown. */
export function effectiveReturn(entry: HistoryEntry): number {
  return entry.result.status === "unknown" ? Number.POSITIVE_INFINITY : entry.returnTime;
}

export function isWrite(op: Op): boolean {
  return op.kind !== "get";
}

/**
 * Structural problems that make a history meaningless to check. Returns one
 * message per problem, empty when the history is well formed.
 */
export function validateHistory(history: History): string[] {
  const errors: string[] = [];
  const ids = new Set<number>();
  for (const e of history) {
    const at = `op ${e.id}`;
    if (!Number.isFinite(e.id)) errors.push(`${at}: id must be a finite number`);
    if (ids.has(e.id)) errors.push(`${at}: duplicate id`);
    ids.add(e.id);
    if (!Number.isFinite(e.invokeTime)) errors.push(`${at}: invokeTime must be finite`);
    if (Number.isNaN(e.returnTime) || e.returnTime < e.invokeTime) {
      errors.push(`${at}: returnTime must be >= invokeTime`);
    }
    if (e.result.status === "ok" && !Number.isFinite(e.returnTime)) {
      errors.push(`${at}: an acknowledged op needs a finite returnTime`);
    }
    errors.push(...validateOpAndResult(e).map((m) => `${at}: ${m}`));
  }
  return errors;
}

function validateOpAndResult(e: HistoryEntry): string[] {
  const errors: string[] = [];
  const op = e.op;
  if (op.kind === "txn") {
    if (op.puts.length + op.deletes.length === 0) errors.push("empty txn");
  } else if (typeof op.key !== "string") {
    errors.push("key must be a string");
  }
  if (op.kind === "incr" && !Number.isSafeInteger(op.by)) errors.push("incr by must be an integer");
  if (e.result.status === "unknown") return errors;
  if (e.result.status !== "ok") return [...errors, "result status must be ok or unknown"];
  const r = e.result as unknown as Record<string, unknown>;
  switch (op.kind) {
    case "get":
      if (r["value"] !== null && typeof r["value"] !== "string") errors.push("get needs a value");
      break;
    case "delete":
      if (typeof r["deleted"] !== "boolean") errors.push("delete needs deleted: boolean");
      break;
    case "cas":
      if (typeof r["succeeded"] !== "boolean") errors.push("cas needs succeeded: boolean");
      break;
    case "incr":
    case "append":
      if (typeof r["value"] !== "string") errors.push(`${op.kind} needs the new value`);
      break;
    default:
      break;
  }
  if (r["index"] !== undefined && !Number.isFinite(r["index"])) errors.push("bad index");
  return errors;
}
