import type { HistoryEntry, Op } from "../../ops/check/history";

/**
 * Terse hand-written histories: `b.put("c1", 0, 10, "x", "1")` is client c1
 * putting x=1, invoked at 0, acknowledged at 10. Pass UNKNOWN as the result for
 * an op whose outcome was never learned (its return time is then +∞).
 */
export const UNKNOWN = Symbol("unknown");
type R<T> = T | typeof UNKNOWN;

export class HistoryBuilder {
  readonly entries: HistoryEntry[] = [];

  private add(c: string, t0: number, t1: number, op: Op, result: object | typeof UNKNOWN): this {
    const unknown = result === UNKNOWN;
    // Leave absent fields absent, so entries survive a JSON round trip unchanged.
    const fields = unknown
      ? {}
      : Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined));
    this.entries.push({
      id: this.entries.length,
      clientId: c,
      invokeTime: t0,
      returnTime: unknown ? Number.POSITIVE_INFINITY : t1,
      op,
      result: unknown ? { status: "unknown" } : { status: "ok", ...fields },
    } as HistoryEntry);
    return this;
  }

  get(c: string, t0: number, t1: number, key: string, value: R<string | null>, index?: number) {
    return this.add(c, t0, t1, { kind: "get", key }, value === UNKNOWN ? value : { value, index });
  }
  seqGet(c: string, t0: number, t1: number, key: string, value: string | null, index?: number) {
    const op: Op = { kind: "get", key, consistency: "sequential" };
    return this.add(c, t0, t1, op, { value, index });
  }
  put(c: string, t0: number, t1: number, key: string, value: string, r?: R<number>) {
    return this.add(c, t0, t1, { kind: "put", key, value }, r === UNKNOWN ? r : { index: r });
  }
  delete(c: string, t0: number, t1: number, key: string, deleted: R<boolean>) {
    return this.add(
      c,
      t0,
      t1,
      { kind: "delete", key },
      deleted === UNKNOWN ? deleted : { deleted },
    );
  }
  cas(
    c: string,
    t0: number,
    t1: number,
    key: string,
    expected: string | null,
    value: string,
    ok: R<boolean>,
  ) {
    const op: Op = { kind: "cas", key, expected, value };
    return this.add(c, t0, t1, op, ok === UNKNOWN ? ok : { succeeded: ok });
  }
  incr(c: string, t0: number, t1: number, key: string, by: number, value: R<string>) {
    return this.add(c, t0, t1, { kind: "incr", key, by }, value === UNKNOWN ? value : { value });
  }
  append(c: string, t0: number, t1: number, key: string, suffix: string, value: R<string>) {
    return this.add(
      c,
      t0,
      t1,
      { kind: "append", key, suffix },
      value === UNKNOWN ? value : { value },
    );
  }
  txn(
    c: string,
    t0: number,
    t1: number,
    puts: Record<string, string>,
    deletes: string[],
    r?: R<number>,
  ) {
    const op: Op = {
      kind: "txn",
      puts: Object.entries(puts).map(([key, value]) => ({ key, value })),
      deletes,
    };
    return this.add(c, t0, t1, op, r === UNKNOWN ? r : { index: r });
  }
}

export const hb = (): HistoryBuilder => new HistoryBuilder();
