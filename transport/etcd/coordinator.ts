/**
 * The etcd coordination adapter's façade: membership / failure detection,
 * leader hint, ballot fencing and incarnations for one replica. etcd holds
 * nothing else (DESIGN §5).
 *
 * Never crashes the process: etcd errors are logged with context (operation,
 * key), retried with capped exponential backoff, and surfaced as
 * `etcdHealth` events; only `start()`, `allocateRound()` and `readRound()`
 * reject, and only with a CoordinationError / CoordinatorStoppedError that the
 * caller asked for. While etcd is unreachable the last known members and
 * leader stay as they were; when it answers again everything is re-read,
 * re-registered and re-campaigned.
 */

import type { Etcd3, Namespace } from "etcd3";
import { createLogger, errorFields, type Logger } from "../log";
import { Backoff, type BackoffOptions, Sleeper } from "./backoff";
import { BallotCounter } from "./ballot-counter";
import { createEtcdClient, sweepWatchersAfterClose } from "./client";
import { CoordinatorStoppedError, wrapEtcdError } from "./errors";
import { type EtcdHealth, HealthMonitor } from "./health";
import { nextIncarnation } from "./incarnation";
import { assertNodeId, type KeyLayout, keyLayout } from "./keys";
import { LeaderHint } from "./leader-hint";
import { type MemberInfo, type MemberMap, Membership } from "./membership";
import { TypedEmitter } from "./typed-emitter";

export interface CoordinatorOptions {
  cluster: string;
  nodeId: number;
  /** etcd client URLs, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Lease TTL of the member key and the campaign (default 2 s, min 1). */
  leaseTtlSeconds?: number;
  logger?: Logger;
  /** host:port of this replica's gRPC peer server (published in members/<id>). */
  grpcAddress: string;
  /** Base URL of this replica's REST API (published in members/<id>). */
  restUrl: string;
  /** Take part in the leader election (default true). */
  campaign?: boolean;
  /** Deadline of each etcd unary call (default 1 000 ms). */
  callTimeoutMs?: number;
  /** Health probe period while etcd answers (default 500 ms). */
  healthIntervalMs?: number;
  /** Retry backoff of every background loop (default 100 ms doubling to 2 s). */
  retry?: BackoffOptions;
}

export interface CoordinatorEvents {
  /** The full map of live members, on every change. */
  members: [members: MemberMap];
  /** The node etcd's election names (null: none), on every change. */
  leader: [leader: number | null];
  /** etcd reachability, on every transition (and once when first known). */
  etcdHealth: [health: EtcdHealth];
}

type State = "new" | "starting" | "running" | "stopped";

export class Coordinator extends TypedEmitter<CoordinatorEvents> {
  readonly cluster: string;
  readonly nodeId: number;
  readonly keys: KeyLayout;
  readonly leaseTtlSeconds: number;

  private readonly o: CoordinatorOptions;
  private readonly log: Logger;
  private readonly retry: BackoffOptions;
  private readonly callTimeoutMs: number;
  private readonly client: Etcd3;
  private readonly root: Namespace;
  private readonly ballot: BallotCounter;
  private readonly health: HealthMonitor;
  private readonly startSleeper = new Sleeper();
  private state: State = "new";
  private incarnationValue = 0;
  private membership: Membership | undefined;
  private leaderHint: LeaderHint | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: CoordinatorOptions) {
    const log = (options.logger ?? createLogger()).child({
      node: options.nodeId,
      component: "etcd",
    });
    super((event, err) =>
      log.error("coordinator listener threw", { event, err: errorFields(err) }),
    );
    assertNodeId(options.nodeId);
    this.o = options;
    this.cluster = options.cluster;
    this.nodeId = options.nodeId;
    this.keys = keyLayout(options.cluster);
    this.leaseTtlSeconds = Math.max(1, Math.round(options.leaseTtlSeconds ?? 2));
    this.log = log;
    this.retry = options.retry ?? { initialMs: 100, maxMs: 2_000 };
    this.callTimeoutMs = options.callTimeoutMs ?? 1_000;
    this.client = createEtcdClient({
      endpoints: options.endpoints,
      callTimeoutMs: this.callTimeoutMs,
    });
    this.root = this.client.namespace(this.keys.root);
    this.ballot = new BallotCounter(this.root, this.keys.ballot);
    this.health = new HealthMonitor(
      async () => {
        try {
          await this.root.get(this.keys.ballot).exec();
        } catch (err) {
          throw wrapEtcdError("probe (linearizable read)", this.keys.ballot, err);
        }
      },
      this.log.child({ component: "etcd-health" }),
      (health, previous) => this.onHealth(health, previous),
      { intervalMs: options.healthIntervalMs ?? 500, backoff: this.retry },
    );
  }

  /** This process's incarnation (0 until start() resolved). */
  get incarnation(): number {
    return this.incarnationValue;
  }

  /** Last known live members (empty until first read). */
  get members(): MemberMap {
    return this.membership?.members ?? new Map();
  }

  /** Last known leader hint (null: none or not known yet). */
  get leader(): number | null {
    return this.leaderHint?.leader ?? null;
  }

  /** Last known etcd reachability (undefined before the first probe). */
  get etcdReachable(): boolean | undefined {
    return this.health.reachable;
  }

  /**
   * Takes a new incarnation, registers this member, starts watching members
   * and the leader, and campaigns. Retries (with backoff) while etcd does not
   * answer; resolves once registered and the first member map and leader
   * were read. Rejects only if stop() is called meanwhile.
   */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`coordinator already ${this.state}`);
    this.state = "starting";
    this.health.start();
    const backoff = new Backoff(this.retry);
    const key = this.keys.incarnation(this.nodeId);
    for (;;) {
      if (this.state !== "starting") throw new CoordinatorStoppedError("start");
      try {
        this.incarnationValue = await nextIncarnation(this.root, key);
        break;
      } catch (err) {
        if (this.state !== "starting") throw new CoordinatorStoppedError("start");
        const retryInMs = backoff.next();
        const fields = { err: errorFields(wrapEtcdError("increment", key, err)), retryInMs };
        if (backoff.attempts === 1) this.log.warn("cannot take an incarnation yet", fields);
        else this.log.debug("cannot take an incarnation yet", fields);
        this.health.suspect();
        await this.startSleeper.sleep(retryInMs);
      }
    }
    const self: MemberInfo = {
      id: this.nodeId,
      incarnation: this.incarnationValue,
      grpcAddress: this.o.grpcAddress,
      restUrl: this.o.restUrl,
      startedAt: new Date().toISOString(),
    };
    const onEtcdError = () => this.health.suspect();
    const quiet = () => this.health.reachable === false;
    this.membership = new Membership({
      ns: this.root,
      keys: this.keys,
      self,
      leaseTtlSeconds: this.leaseTtlSeconds,
      logger: this.log,
      retry: this.retry,
      onMembers: (members) => this.emit("members", members),
      onEtcdError,
      quiet,
    });
    this.leaderHint = new LeaderHint({
      electionNs: this.root.namespace(this.keys.leaderPrefix),
      nodeId: this.nodeId,
      leaseTtlSeconds: this.leaseTtlSeconds,
      campaign: this.o.campaign ?? true,
      logger: this.log,
      retry: this.retry,
      onLeader: (leader) => this.emit("leader", leader),
      onEtcdError,
      quiet,
    });
    this.log.info("coordinator starting", {
      cluster: this.cluster,
      incarnation: this.incarnationValue,
      leaseTtlSeconds: this.leaseTtlSeconds,
    });
    this.membership.start();
    this.leaderHint.start();
    await Promise.all([this.membership.whenReady(), this.leaderHint.whenReady()]);
    if (this.state !== "starting") throw new CoordinatorStoppedError("start");
    this.state = "running";
    this.log.info("coordinator running", {
      members: [...this.members.keys()],
      leader: this.leader,
    });
  }

  /** A fresh ballot round: unique cluster-wide, greater than every round allocated before. */
  /**
   * Leaves the election for `delayMs` (resigning, so another candidate is
   * named at once), then campaigns again. No-op when not campaigning.
   */
  stepBack(delayMs: number): Promise<void> {
    return this.leaderHint?.stepBack(delayMs) ?? Promise.resolve();
  }

  allocateRound(): Promise<number> {
    return this.guarded("allocateRound", () => this.ballot.allocateRound());
  }

  /** The highest round allocated so far (0 if none). */
  readRound(): Promise<number> {
    return this.guarded("readRound", () => this.ballot.readRound());
  }

  /** Clean shutdown: resign, revoke the member lease, close the client. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown(true);
    return this.stopping;
  }

  /**
   * Test hook simulating a process crash: stops every loop and closes the
   * client WITHOUT revoking anything, so etcd only learns of it when the
   * leases expire (TTL). Afterwards behaves as stopped.
   */
  crash(): Promise<void> {
    this.stopping ??= this.shutdown(false);
    return this.stopping;
  }

  private async guarded<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.state === "stopped") throw new CoordinatorStoppedError(op);
    try {
      return await fn();
    } catch (err) {
      this.health.suspect();
      throw err;
    }
  }

  private onHealth(health: EtcdHealth, previous: boolean | undefined): void {
    if (this.state === "stopped") return;
    if (health.reachable && previous === false) {
      this.membership?.recover();
      this.leaderHint?.recover();
    }
    this.emit("etcdHealth", health);
  }

  private async shutdown(clean: boolean): Promise<void> {
    const wasStarted = this.state !== "new";
    this.state = "stopped";
    this.startSleeper.wake();
    this.health.stop();
    const membership = this.membership;
    const leaderHint = this.leaderHint;
    if (clean) {
      await Promise.all([leaderHint?.resign(), membership?.stop()]);
    } else {
      leaderHint?.crash();
      membership?.crash();
    }
    this.client.close();
    // etcd3 quirks: see sweepWatchersAfterClose / purgeWatchers
    sweepWatchersAfterClose(
      leaderHint ? [this.root, leaderHint.namespace] : [this.root],
      new Error("etcd client closed"),
      this.callTimeoutMs + 1_000,
    );
    this.removeAllListeners();
    if (wasStarted)
      this.log.info(clean ? "coordinator stopped" : "coordinator crashed (test hook)");
  }
}
