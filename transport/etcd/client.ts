/**
 * Builds the etcd3 client the coordinator uses, with fault handling suited to
 * a failure detector (see the notes on each option), plus small workarounds
 * for etcd3 1.1.2 behaviour.
 */

import { Etcd3, type IOptions, type Namespace } from "etcd3";

type FaultHandling = NonNullable<IOptions["faultHandling"]>;
type Policy = NonNullable<FaultHandling["global"]>;
type WatchBackoff = NonNullable<FaultHandling["watchBackoff"]>;

const neverAborted = new AbortController().signal;
const noEvent = () => ({ dispose: () => undefined });

/**
 * A pass-through fault policy. etcd3's defaults are a 3x global retry and a
 * per-host circuit breaker that, after 3 failures, fails every call for 5 s
 * even once etcd is back. We retry in our own loops (with backoff and
 * logging), so both are replaced by this.
 */
const passThrough: Policy = {
  _altReturn: undefined as never,
  onSuccess: noEvent,
  onFailure: noEvent,
  execute: (fn, signal) => Promise.resolve().then(() => fn({ signal: signal ?? neverAborted })),
};

/** Capped exponential backoff for etcd3's watch-stream reconnects (default caps at 30 s). */
function watchBackoff(initialMs: number, maxMs: number, attempt = 0): WatchBackoff {
  return {
    duration: Math.min(maxMs, initialMs * 2 ** attempt),
    next: () => watchBackoff(initialMs, maxMs, Math.min(attempt + 1, 30)),
  };
}

export interface EtcdClientOptions {
  endpoints: string[];
  /** Deadline of every unary call (streams have none). Default 1 000 ms. */
  callTimeoutMs?: number;
  /** Cap of the watch reconnect backoff. Default 1 000 ms. */
  watchBackoffMaxMs?: number;
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  if (options.endpoints.length === 0) throw new RangeError("no etcd endpoints");
  const callTimeoutMs = options.callTimeoutMs ?? 1_000;
  return new Etcd3({
    hosts: options.endpoints,
    // Without a deadline a unary call to a frozen etcd (SIGSTOP, `docker
    // pause`) hangs forever: TCP still connects, nothing answers.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      global: passThrough,
      host: () => passThrough,
      watchBackoff: watchBackoff(50, options.watchBackoffMaxMs ?? 1_000),
    },
  });
}

/** The internals of an etcd3 Namespace's watch manager that `purgeWatchers` needs. */
interface WatchManagerInternals {
  watchers?: Array<{ emit(event: string, ...args: unknown[]): boolean; cancel(): Promise<void> }>;
  stream?: { cancel(): void };
}

/**
 * etcd3 1.1.2 quirks on close: `client.close()` closes the gRPC channels, but
 * calls already open on them go on (grpc-js), and a watcher still attached
 * keeps its namespace's watch manager reconnecting forever (a timer every
 * backoff period, each failing with ClientClosedError). Watchers created
 * inside etcd3 recipes (Campaign.waitForElected) cannot be cancelled from
 * outside, and one whose `create()` failed is never detached by the recipe.
 * After closing the client, this fails every watcher still attached to `ns`
 * with `reason`, detaches it, and cancels the watch stream, so the manager
 * finds no watcher and stops, and no socket stays open.
 */
export function purgeWatchers(ns: Namespace, reason: Error): void {
  const manager = (ns as unknown as { watchManager?: WatchManagerInternals }).watchManager;
  if (!manager) return;
  for (const watcher of [...(manager.watchers ?? [])]) {
    try {
      watcher.emit("error", reason); // unblocks whoever waits on it
    } catch {
      // no 'error' listener, or a listener threw: the watcher is failing anyway
    }
    // and detach it: a recipe whose `create()` rejected never cancels its watcher
    watcher.cancel().catch(() => undefined);
  }
  try {
    manager.stream?.cancel();
  } catch {
    // already closed
  }
}

/**
 * purgeWatchers now and then every `everyMs` for `forMs`: etcd3's Campaign
 * can still create a watcher after resign() and close() (a read it started
 * before finishes, then it attaches a watch on its predecessor's key). Such
 * reads end within the unary call deadline, so sweeping for a little longer
 * than that catches them. The timers are unref'd: they never hold the process.
 */
export function sweepWatchersAfterClose(
  namespaces: Namespace[],
  reason: Error,
  forMs: number,
  everyMs = 100,
): void {
  const sweep = () => {
    for (const ns of namespaces) purgeWatchers(ns, reason);
  };
  sweep();
  const deadline = Date.now() + forMs;
  const timer = setInterval(() => {
    sweep();
    if (Date.now() >= deadline) clearInterval(timer);
  }, everyMs);
  timer.unref();
}
