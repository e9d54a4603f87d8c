/**
 * A counter in one etcd key (decimal string), incremented with a
 * compare-and-swap transaction: read value + mod revision, then
 * `txn(if mod_revision unchanged) put value+1 else get`, retrying on conflict a
 * bounded number of times. Every value returned by `increment()` is unique
 * and, because each successful txn is linearizable, values are increasing in
 * real time across all clients. An increment whose outcome is unknown
 * (deadline) is never reported as success; at worst a value is skipped.
 */

import type { IKeyValue, Namespace } from "etcd3";
import { CoordinationError, withContext } from "./errors";

export interface CasCounterOptions {
  /** Attempts before giving up under contention (default 64). */
  maxAttempts?: number;
}

function parseCounter(key: string, kv: IKeyValue | undefined): number {
  if (!kv) return 0;
  const text = kv.value.toString("utf8");
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new CoordinationError("read", key, `not a counter: ${JSON.stringify(text)}`);
  }
  return n;
}

const jitter = (maxMs: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.floor(Math.random() * maxMs)));

export class CasCounter {
  private readonly maxAttempts: number;

  constructor(
    private readonly ns: Namespace,
    readonly key: string,
    options: CasCounterOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 64);
  }

  /** Current value (0 when the key does not exist). Linearizable read. */
  read(): Promise<number> {
    return withContext("read", this.key, async () => {
      const res = await this.ns.get(this.key).exec();
      return parseCounter(this.key, res.kvs[0]);
    });
  }

  /** Atomically adds one and returns the new value (1 for a fresh key). */
  increment(): Promise<number> {
    return withContext("increment", this.key, async () => {
      let kv = (await this.ns.get(this.key).exec()).kvs[0];
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const next = parseCounter(this.key, kv) + 1;
        const guard = kv
          ? this.ns.if(this.key, "Mod", "==", kv.mod_revision)
          : this.ns.if(this.key, "Create", "==", 0);
        const res = await guard
          .then(this.ns.put(this.key).value(String(next)))
          .else(this.ns.get(this.key))
          .commit();
        if (res.succeeded) return next;
        // lost the race: the else-branch read gives the winner's value
        kv = res.responses[0]?.response_range?.kvs[0];
        if (attempt >= 4) await jitter(Math.min(50, 2 * attempt));
      }
      throw new CoordinationError(
        "increment",
        this.key,
        `compare-and-swap lost ${this.maxAttempts} times in a row`,
      );
    });
  }
}
