/**
 * Membership and failure detection: this replica's registration at
 * `members/<id>` under a lease kept alive by etcd3, and a view of every
 * registered member (initial read + watch from the read's revision; rebuilt
 * from a fresh read after any watch error, watch reconnect, or etcd outage).
 * Lease expiry, i.e. a key disappearing from the view, is the suspicion signal.
 *
 * If the lease is lost (etcd unreachable longer than the TTL, lease revoked or
 * expired), a new lease is granted and the same registration (same
 * incarnation) is written again once etcd answers.
 */

import {
  EtcdLeaseInvalidError,
  type IKeyValue,
  type Lease,
  type Namespace,
  type Watcher,
} from "etcd3";
import { errorFields, type Logger } from "../log";
import type { BackoffOptions } from "./backoff";
import { wrapEtcdError } from "./errors";
import type { KeyLayout } from "./keys";
import { Reconciler } from "./reconciler";

/** What a replica publishes about itself (the JSON value of `members/<id>`). */
export interface MemberInfo {
  id: number;
  incarnation: number;
  /** host:port of its gRPC peer server. */
  grpcAddress: string;
  /** Base URL of its REST API. */
  restUrl: string;
  /** ISO-8601 time the process started. */
  startedAt: string;
}

/** Live members by node id. */
export type MemberMap = ReadonlyMap<number, MemberInfo>;

export interface MembershipOptions {
  ns: Namespace;
  keys: KeyLayout;
  self: MemberInfo;
  leaseTtlSeconds: number;
  logger: Logger;
  retry: BackoffOptions;
  onMembers: (members: MemberMap) => void;
  /** Called with every failed etcd operation (e.g. to make the health monitor probe). */
  onEtcdError: (err: unknown) => void;
  /** True while etcd is known to be unreachable (retry failures are then logged at debug). */
  quiet: () => boolean;
}

function parseMember(keys: KeyLayout, kv: IKeyValue, logger: Logger): MemberInfo | undefined {
  const key = kv.key.toString("utf8");
  const id = keys.memberIdOf(key);
  if (id === undefined) {
    logger.warn("ignoring malformed member key", { key });
    return undefined;
  }
  try {
    const v = JSON.parse(kv.value.toString("utf8")) as Partial<MemberInfo>;
    if (
      typeof v.incarnation !== "number" ||
      typeof v.grpcAddress !== "string" ||
      typeof v.restUrl !== "string"
    ) {
      throw new Error("missing fields");
    }
    if (v.id !== id)
      logger.warn("member value names another id; using the key's", { key, id: v.id });
    return {
      id,
      incarnation: v.incarnation,
      grpcAddress: v.grpcAddress,
      restUrl: v.restUrl,
      startedAt: typeof v.startedAt === "string" ? v.startedAt : "",
    };
  } catch (err) {
    logger.warn("ignoring malformed member value", { key, err: errorFields(err) });
    return undefined;
  }
}

function fingerprint(map: MemberMap): string {
  return JSON.stringify([...map.values()].sort((a, b) => a.id - b.id));
}

export class Membership {
  private readonly o: MembershipOptions;
  private readonly key: string;
  private readonly value: string;
  private readonly log: Logger;
  private readonly register: Reconciler;
  private readonly resync: Reconciler;

  private lease: Lease | undefined;
  /** The lease the registration was written with (undefined while unregistered). */
  private registeredLease: string | undefined;
  private registrations = 0;
  private watcher: Watcher | undefined;
  private view = new Map<number, MemberInfo>();
  private viewRevision = "0";
  private lastEmitted: string | undefined;
  private stopped = false;
  private readyWaiters: Array<() => void> = [];

  constructor(options: MembershipOptions) {
    this.o = options;
    this.key = options.keys.member(options.self.id);
    this.value = JSON.stringify(options.self);
    this.log = options.logger.child({ component: "membership" });
    this.register = new Reconciler(
      "member registration",
      () => this.registerOnce(),
      this.log,
      options.retry,
      options.onEtcdError,
      options.quiet,
    );
    this.resync = new Reconciler(
      "member view resync",
      () => this.resyncOnce(),
      this.log,
      options.retry,
      options.onEtcdError,
      options.quiet,
    );
  }

  /** The current view (last emitted map). */
  get members(): MemberMap {
    return new Map(this.view);
  }

  /** True once registered and the view shows this member. */
  get ready(): boolean {
    return this.registeredLease !== undefined && this.view.has(this.o.self.id);
  }

  start(): void {
    this.register.kick();
    this.resync.kick();
  }

  /** Resolves when `ready` (or immediately when stopped). */
  whenReady(): Promise<void> {
    if (this.ready || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** After an etcd outage: re-read the view and make sure our key is still there. */
  recover(): void {
    this.resync.kick();
    this.register.kick();
  }

  /** Clean shutdown: stop loops, cancel the watch, revoke the lease (deletes our key). */
  async stop(): Promise<void> {
    if (this.halt()) return;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) {
      try {
        await lease.revoke();
      } catch (err) {
        this.log.warn("could not revoke member lease; it will expire", {
          err: errorFields(wrapEtcdError("revoke lease", this.key, err)),
        });
      }
    }
  }

  /** Crash simulation: stop everything without telling etcd (the lease expires by TTL). */
  crash(): void {
    if (this.halt()) return;
    this.lease?.release();
    this.lease = undefined;
  }

  /** Common part of stop/crash; returns true if already halted. */
  private halt(): boolean {
    if (this.stopped) return true;
    this.stopped = true;
    this.register.stop();
    this.resync.stop();
    this.dropWatcher();
    this.flushReady();
    return false;
  }

  private flushReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private checkReady(): void {
    if (this.ready) this.flushReady();
  }

  private newLease(): Lease {
    const lease = this.o.ns.lease(this.o.leaseTtlSeconds);
    lease.on("lost", (err) => {
      if (this.stopped || this.lease !== lease) return;
      const wasRegistered = this.registeredLease !== undefined;
      this.lease = undefined;
      this.registeredLease = undefined;
      if (wasRegistered) {
        // log once per loss; registerOnce logs its own failures
        this.log.warn("member lease lost; will re-grant and re-register", {
          key: this.key,
          incarnation: this.o.self.incarnation,
          err: errorFields(wrapEtcdError("keep-alive", this.key, err)),
        });
        this.register.kick();
      }
    });
    lease.on("keepaliveFailed", (err) => {
      if (this.stopped || this.lease !== lease) return;
      this.log.debug("member lease keep-alive failed", {
        err: errorFields(wrapEtcdError("keep-alive", this.key, err)),
      });
      this.o.onEtcdError(err);
    });
    return lease;
  }

  private async registerOnce(): Promise<void> {
    let lease = this.lease;
    if (!lease || lease.revoked()) {
      lease = this.newLease();
      this.lease = lease;
    }
    try {
      const leaseId = await lease.grant();
      if (this.stopped) return;
      const current = (await this.o.ns.get(this.key).exec()).kvs[0];
      if (current && current.lease === leaseId && current.value.toString("utf8") === this.value) {
        this.registeredLease = leaseId;
        this.checkReady();
        return; // still registered
      }
      await this.o.ns.put(this.key).value(this.value).lease(leaseId).exec();
      if (this.stopped || this.lease !== lease) return;
      this.registeredLease = leaseId;
      this.registrations++;
      const fields = { key: this.key, incarnation: this.o.self.incarnation, leaseId };
      if (this.registrations === 1) this.log.info("registered member", fields);
      else this.log.warn("re-registered member", { ...fields, registrations: this.registrations });
      this.checkReady();
    } catch (err) {
      if (this.lease === lease && (err instanceof EtcdLeaseInvalidError || lease.revoked())) {
        // the lease is gone on the server (or never granted): next attempt grants a new one
        lease.release();
        this.lease = undefined;
        this.registeredLease = undefined;
      }
      throw wrapEtcdError("register", this.key, err);
    }
  }

  private dropWatcher(): void {
    const w = this.watcher;
    this.watcher = undefined;
    // not awaited: cancelling waits for etcd's answer, which a frozen etcd never gives
    w?.cancel().catch(() => undefined);
  }

  private async resyncOnce(): Promise<void> {
    this.dropWatcher();
    const prefix = this.o.keys.membersPrefix;
    let res: Awaited<ReturnType<ReturnType<Namespace["getAll"]>["exec"]>>;
    try {
      res = await this.o.ns.getAll().prefix(prefix).exec();
    } catch (err) {
      throw wrapEtcdError("read members", prefix, err);
    }
    if (this.stopped) return;
    const view = new Map<number, MemberInfo>();
    for (const kv of res.kvs) {
      const m = parseMember(this.o.keys, kv, this.log);
      if (m) view.set(m.id, m);
    }
    this.view = view;
    this.viewRevision = res.header.revision;
    this.publish();
    this.watchFrom(BigInt(res.header.revision) + 1n);
    if (!view.has(this.o.self.id) && this.registeredLease !== undefined) this.register.kick();
  }

  private watchFrom(revision: bigint): void {
    const prefix = this.o.keys.membersPrefix;
    const w = this.o.ns.watch().prefix(prefix).startRevision(revision.toString()).watcher();
    this.watcher = w;
    let disconnected = false;
    w.on("put", (kv) => {
      if (this.watcher !== w) return;
      const m = parseMember(this.o.keys, kv, this.log);
      if (m) {
        this.view.set(m.id, m);
        this.publish();
      }
    });
    w.on("delete", (kv) => {
      if (this.watcher !== w) return;
      const id = this.o.keys.memberIdOf(kv.key.toString("utf8"));
      if (id === undefined) return;
      this.view.delete(id);
      this.publish();
      if (id === this.o.self.id && !this.stopped) {
        this.log.warn("own member key deleted; re-registering", { key: this.key });
        this.registeredLease = undefined;
        this.register.kick();
      }
    });
    w.on("data", (res) => {
      if (this.watcher === w) this.viewRevision = res.header.revision;
    });
    w.on("disconnected", (err) => {
      if (this.watcher !== w) return;
      disconnected = true;
      this.log.debug("members watch disconnected", {
        err: errorFields(wrapEtcdError("watch", prefix, err)),
      });
      this.o.onEtcdError(err);
    });
    w.on("connected", () => {
      if (this.watcher !== w || !disconnected) return;
      disconnected = false;
      this.resync.kick(); // rebuild from a fresh read after any interruption
    });
    w.on("error", (err) => {
      if (this.watcher !== w) return;
      this.log.warn("members watch failed; rebuilding from a fresh read", {
        err: errorFields(wrapEtcdError("watch", prefix, err)),
      });
      this.watcher = undefined;
      this.resync.kick();
    });
  }

  private publish(): void {
    const fp = fingerprint(this.view);
    if (fp === this.lastEmitted) return;
    this.lastEmitted = fp;
    this.log.debug("members changed", { ids: [...this.view.keys()], revision: this.viewRevision });
    this.checkReady();
    this.o.onMembers(new Map(this.view));
  }
}
