import {
  type CoreConfig,
  DEFAULT_CONFIG,
  type Effects,
  formatBallot,
  type NodeId,
  nodeId,
  PaxosNode,
  type SnapshotNeed,
} from "../consensus";
import {
  type Command,
  type CommandHead,
  decodeCommand,
  decodeCommandHead,
  encodeCommand,
  logIndex,
  readMarker,
} from "../domain";
import { digest } from "../projections/digest";
import type { KvProjection } from "../projections/kv-projection";
import type { Coordinator } from "../transport/etcd";
import { ForwardError, type ForwardReply, type ForwardRequest } from "../transport/grpc/forward";
import type { SnapshotChunk } from "../transport/grpc/peer-server";
import { PeerTransport } from "../transport/grpc/peer-transport";
import { errorFields, type Logger } from "../transport/log";
import type {
  ClusterView,
  CommandOutcome,
  Consistency,
  KvService,
  ReadOutcome,
  ReplayReport,
} from "../transport/rest/service";
import { appliedOrForwarded } from "./applied-or-forwarded";
import type { ReplicaConfig } from "./config";
import { type ReadIndexOutcome, ReadWaiters } from "./read-waiters";
import { replayCheck } from "./replay-check";
import { decodeResult, encodeResult } from "./result-bytes";
import { SnapshotCodec } from "./snapshot-transfer";
import type { StateMachine } from "./state-machine";
import type { Settled, Waiters } from "./waiters";

/** Longest wait for one forwarded attempt before the leader hint is read again. */
const FORWARD_ATTEMPT_MS = 2_000;

/**
 * A snapshot transfer may take minutes for a large state, but a donor that
 * sends nothing for seconds (paused, unreachable) is given up on.
 */
const SNAPSHOT_TRANSFER = { totalMs: 10 * 60_000, idleMs: 5_000 } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One replica process: it drives the consensus core (ticks, peer messages,
 * etcd events, client proposals), carries out the core's effects (sends,
 * applying decided entries, ballot rounds, snapshot transfers), and serves
 * clients through the KvService interface the REST API calls.
 */
export class Replica implements KvService {
  private core: PaxosNode | null = null;
  private transport: PeerTransport | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Commands to propose at the end of this turn, all in one batch. */
  private proposals: Uint8Array[] = [];
  private roundRequested = false;
  private fetchingSnapshot = false;
  private lastSnapshotIndex = 0;
  private readRequestId = 0;
  private readonly reads = new ReadWaiters();
  private readerId = "";
  private stopped = false;

  constructor(
    private readonly config: ReplicaConfig,
    private readonly coordinator: Coordinator,
    private readonly machine: StateMachine,
    private readonly waiters: Waiters,
    private readonly snapshots: SnapshotCodec,
    private readonly log: Logger,
  ) {}

  get id(): NodeId {
    return this.config.nodeId;
  }

  get serving(): boolean {
    return this.core !== null && !this.stopped;
  }

  /**
   * Registers in etcd, reads the ballot fence, then starts the core, the
   * peer transport and the tick loop. The fence is read after this process
   * started: every round it could have promised in an earlier life is at or
   * below it (DESIGN §4).
   */
  async start(): Promise<void> {
    await this.coordinator.start();
    const incarnation = this.coordinator.incarnation;
    // Incarnation 1 never ran before, so it promised nothing: only a restart
    // is amnesiac. (Fencing a first boot would make every replica that starts
    // after the first ballot "recovering", and a new cluster could deadlock.)
    const fenceRound = incarnation > 1 ? await this.coordinator.readRound() : 0;
    this.readerId = `reader-${this.id}-${incarnation}`;
    const coreConfig: CoreConfig = {
      ...DEFAULT_CONFIG,
      ...this.config.core,
      id: this.id,
      members: [...this.config.peers.keys()],
    };
    this.core = new PaxosNode(coreConfig, { fenceRound, incarnation });
    this.log.info("replica starting", {
      incarnation,
      fenceRound,
      recovering: this.core.recovering,
      members: coreConfig.members,
    });
    this.transport = new PeerTransport(
      this.id,
      this.config.peers,
      {
        onMessages: (messages) => {
          for (const m of messages) {
            // A peer with a different --peers map could address someone else:
            // drop it loudly rather than let the core's invariant stop us.
            if (m.to !== this.id) {
              this.log.error("dropped a message addressed to another replica (check --peers)", {
                from: m.from,
                to: m.to,
              });
              continue;
            }
            this.input((core) => core.step(m));
          }
        },
        onForward: (request) => this.onForward(request),
        onFetchSnapshot: (minIndex) => this.serveSnapshot(minIndex),
        beforeFlush: () => this.proposeTurn(),
      },
      this.log.child({ component: "grpc" }),
    );
    await this.transport.start(this.config.grpcListen);
    this.coordinator.on("leader", (leader) => {
      // Forwards in flight to the old leader are followed to the new one now,
      // not at their deadline (safe: a retry is applied at most once).
      this.transport?.abortForwardsExcept(
        leader === null ? null : nodeId(leader),
        `the leader changed (now ${leader ?? "unknown"})`,
      );
      this.input((core) => core.setLeaderHint(leader === null ? null : nodeId(leader)));
    });
    this.coordinator.on("members", (members) =>
      this.input((core) => core.setLiveMembers([...members.keys()].map(nodeId))),
    );
    this.input((core) => core.setLiveMembers([...this.coordinator.members.keys()].map(nodeId)));
    const leader = this.coordinator.leader;
    this.input((core) => core.setLeaderHint(leader === null ? null : nodeId(leader)));
    this.timer = setInterval(() => this.input((core) => core.tick()), this.config.tickMs);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.waiters.clear();
    this.reads.clear();
    await this.transport?.close();
    await this.coordinator.stop();
    this.log.info("replica stopped");
  }

  // ---- driving the core -------------------------------------------------------

  private input(fn: (core: PaxosNode) => Effects): void {
    if (!this.core || this.stopped) return;
    this.carryOut(fn(this.core));
  }

  private carryOut(effects: Effects): void {
    if (effects.messages.length > 0) this.transport?.send(effects.messages);
    for (const entry of effects.decided) this.machine.apply(entry);
    if (effects.decided.length > 0) this.maybeSnapshot();
    if (effects.requestRound) this.requestRound();
    if (effects.relinquish) this.relinquish();
    if (effects.snapshotNeeded) void this.fetchSnapshot(effects.snapshotNeeded);
    // Rare (leadership lost or never had): decoding the bytes again is
    // cheaper than remembering every proposal's command until it settles.
    for (const bytes of effects.rejected) {
      const command = decodeCommand(bytes);
      if (command.ok) this.waiters.notLeader(command.value.clientId, command.value.requestId);
    }
    for (const event of effects.events) this.logEvent(event);
    for (const ready of effects.readsReady) this.reads.ready(ready.id, ready.index);
    for (const id of effects.readsFailed) this.reads.notLeader(id);
  }

  /** A read index from this replica's core, if it leads (consensus/read-index.ts). */
  private readIndexHere(timeoutMs: number): Promise<ReadIndexOutcome> {
    const { id, outcome } = this.reads.start(timeoutMs);
    this.input((core) => core.readIndex(id));
    return outcome;
  }

  /**
   * At the end of each turn of the event loop, the commands proposed during
   * it go to the core as one batch (one log entry while the pipeline has
   * room, instead of one entry per command); the Accepts this produces leave
   * with the rest of the turn's batch to each peer (PeerTransport).
   */
  private proposeTurn(): void {
    if (this.proposals.length === 0) return;
    const commands = this.proposals;
    this.proposals = [];
    this.input((core) => core.propose(commands));
  }

  private logEvent(event: Effects["events"][number]): void {
    switch (event.type) {
      case "leading":
        this.log.info("leading", {
          ballot: formatBallot(event.ballot),
          fromIndex: event.fromIndex,
          horizon: event.horizon,
        });
        break;
      case "stepped-down":
        this.log.info("stepped down", { ballot: formatBallot(event.ballot), reason: event.reason });
        break;
      case "left-recovery":
        this.log.info("left recovery: a full acceptor again", { chosenIndex: event.chosenIndex });
        break;
      case "disposed":
        this.log.debug("disposed instances", { disposeBelow: event.disposeBelow });
        break;
      case "refused-disposed":
        // The asker tried to re-invoke a disposed instance: a stale leader (say,
        // resumed from a pause) or one behind our compaction. Refused; it must
        // catch up. Worth seeing, not alarming.
        this.log.warn("refused a request for a disposed instance", { ...event });
        break;
    }
  }

  private requestRound(): void {
    if (this.roundRequested) return;
    this.roundRequested = true;
    this.coordinator.allocateRound().then(
      (round) => {
        this.roundRequested = false;
        this.input((core) => core.grantRound(round));
      },
      (error) => {
        this.roundRequested = false;
        this.log.warn("could not allocate a ballot round", { error: errorFields(error) });
      },
    );
  }

  /** Cut off from a quorum: leave the election for a while so that etcd names another replica. */
  private relinquish(): void {
    const delayMs = this.config.tickMs * (this.config.core.quorumLossTicks ?? 40) * 2;
    this.log.warn("cannot reach a quorum of peers: giving up the leader hint", {
      campaignAgainInMs: delayMs,
    });
    this.coordinator.stepBack(delayMs).catch((error) => {
      this.log.warn("could not step back from the election", { error: errorFields(error) });
    });
  }

  private maybeSnapshot(): void {
    const applied = this.machine.appliedIndex;
    if (applied - this.lastSnapshotIndex < this.config.snapshotEvery) return;
    const snapshot = this.machine.takeSnapshot();
    this.lastSnapshotIndex = snapshot.index;
    const compactThrough = Math.max(0, snapshot.index - this.config.retainTail);
    this.input((core) => core.compact(compactThrough));
  }

  private serveSnapshot(minIndex: number): AsyncIterable<SnapshotChunk> | null {
    const snapshot = this.machine.latestSnapshot;
    if (snapshot.index < minIndex || snapshot.index === 0) return null;
    return this.snapshots.encode(snapshot.view);
  }

  private async fetchSnapshot(need: SnapshotNeed): Promise<void> {
    if (this.fetchingSnapshot || !this.transport) return;
    this.fetchingSnapshot = true;
    const started = Date.now();
    let installed = false;
    try {
      const chunks = this.transport.fetchSnapshot(need.from, need.index, SNAPSHOT_TRANSFER);
      const view = await this.snapshots.decode(chunks, this.config.domain);
      if (view.appliedIndex > this.machine.appliedIndex) {
        this.machine.install(view);
        this.lastSnapshotIndex = view.appliedIndex;
        installed = true;
        this.input((core) => core.installSnapshot(view.appliedIndex));
        this.log.info("installed a snapshot", {
          from: need.from,
          index: view.appliedIndex,
          ms: Date.now() - started,
        });
      } else {
        // Catch-up got there first while the snapshot was on its way.
        this.log.info("fetched snapshot is not newer than the applied state; not installed", {
          from: need.from,
          index: view.appliedIndex,
          applied: this.machine.appliedIndex,
        });
      }
    } catch (error) {
      this.log.warn("snapshot transfer failed", { from: need.from, error: errorFields(error) });
    } finally {
      this.fetchingSnapshot = false;
      // Otherwise the core would hold catch-up back until snapshotRetryTicks (10 s).
      if (!installed) this.input((core) => core.snapshotFailed());
    }
  }

  // ---- client commands ------------------------------------------------------

  private leadsOrMayLead(): boolean {
    return this.coordinator.leader === this.id || this.core?.leading === true;
  }

  private knownLeader(): NodeId | null {
    const hinted = this.coordinator.leader;
    if (hinted !== null) return nodeId(hinted);
    return this.core?.knownLeader ?? null;
  }

  get appliedIndex(): number {
    return this.machine.appliedIndex;
  }

  /**
   * Proposes a command here and waits until it is applied (or refused).
   * `bytes` is the command encoded once (by the forwarder, for a forwarded one).
   */
  private proposeLocally(
    command: CommandHead,
    timeoutMs: number,
    bytes: Uint8Array,
  ): Promise<Settled> {
    const settled = this.waiters.wait(command.clientId, command.requestId, timeoutMs);
    this.proposals.push(bytes);
    this.transport?.scheduleFlush();
    return settled;
  }

  async command(command: Command, timeoutMs: number): Promise<CommandOutcome> {
    const settled = await this.runCommand(command, timeoutMs);
    return settled.kind === "ok" ? { kind: "ok", result: settled.result } : settled;
  }

  /**
   * Runs a command through the log from any replica: proposed here when this
   * replica leads, else forwarded to the leader; retried (safely: exactly
   * once per request id) when the leader changes, until the deadline.
   */
  private async runCommand(
    command: Command,
    timeoutMs: number,
  ): Promise<
    | {
        kind: "ok";
        result: import("../domain").CommandResult;
        view: KvProjection | null;
      }
    | { kind: "unavailable"; reason: string; retryAfterSeconds: number }
  > {
    const deadline = Date.now() + timeoutMs;
    let backoff = 20;
    let reason = "no leader known";
    // Encoded once, when first proposed or forwarded; every attempt uses the same bytes.
    let encoded: Uint8Array | null = null;
    while (!this.stopped && Date.now() < deadline) {
      const remaining = deadline - Date.now();
      if (this.leadsOrMayLead() && command.type === "read") {
        // A read needs no log entry: the leader's read index, confirmed by a quorum.
        const read = await this.readIndexHere(remaining);
        if (read.kind === "ready")
          return { kind: "ok", result: { type: "read", index: logIndex(read.index) }, view: null };
        if (read.kind === "timeout") {
          reason = "no quorum confirmed the leader's ballot in time";
          break;
        }
        reason = "this replica is not leading yet";
      } else if (this.leadsOrMayLead()) {
        encoded ??= encodeCommand(command);
        const settled = await this.proposeLocally(command, remaining, encoded);
        if (settled.kind === "applied")
          return { kind: "ok", result: settled.result, view: settled.view };
        if (settled.kind === "timeout") {
          reason = "the command was not decided in time (no quorum?)";
          break;
        }
      } else {
        const leader = this.knownLeader();
        if (leader !== null && leader !== this.id && this.transport) {
          try {
            // A bounded attempt: a leader that crashed or froze is given up on
            // in time to follow the next hint (the retry is safe: exactly once).
            const attempt = Math.min(remaining, FORWARD_ATTEMPT_MS);
            encoded ??= encodeCommand(command);
            // Every replica applies the same log, so our own apply gives the
            // leader's result; with three replicas we learn the entry as we
            // accept it, a round trip before the leader's answer arrives.
            // Whichever comes first answers the client. (A read marker never
            // enters the log: only the leader's answer can end it.)
            const forwarded = this.transport.forward(leader, encoded, attempt);
            const reply =
              command.type === "read"
                ? await forwarded
                : await appliedOrForwarded(
                    this.waiters.wait(command.clientId, command.requestId, attempt),
                    forwarded,
                  );
            if ("kind" in reply) return { kind: "ok", result: reply.result, view: reply.view };
            if (reply.outcome === "result")
              return { kind: "ok", result: decodeResult(reply.result), view: null };
            if (reply.outcome === "timeout")
              reason = `outcome unknown: the leader (${leader}) could not decide the command in time`;
            else reason = `replica ${leader} does not lead`;
          } catch (error) {
            const message = (error as Error).message;
            reason =
              error instanceof ForwardError && !error.unknown
                ? `not forwarded to leader ${leader}: ${message}`
                : `outcome unknown: forwarded to leader ${leader}, no answer: ${message}`;
          }
        }
      }
      await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
      backoff = Math.min(backoff * 2, 500);
    }
    return { kind: "unavailable", reason, retryAfterSeconds: 1 };
  }

  private async onForward(request: ForwardRequest): Promise<ForwardReply> {
    // Checked in full, but only its head is built: the leader needs the key and
    // value only when it applies the command, and decodes it then.
    const decoded = decodeCommandHead(request.command);
    if (!decoded.ok) throw new Error(`undecodable forwarded command: ${decoded.error.message}`);
    if (!this.leadsOrMayLead()) return { outcome: "notLeader", notLeader: this.knownLeader() ?? 0 };
    // Answer a little before the forwarder's deadline, so it hears "timeout"
    // from us rather than a transport error.
    const timeoutMs = Math.max(1, Math.min(request.timeoutMs, this.config.requestTimeoutMs) - 100);
    if (decoded.value.type === "read") {
      // A forwarded linearizable read: our read index; the forwarder waits until it applied it.
      const read = await this.readIndexHere(timeoutMs);
      if (read.kind === "ready") {
        return {
          outcome: "result",
          result: encodeResult({ type: "read", index: logIndex(read.index) }),
          index: read.index,
        };
      }
      if (read.kind === "timeout") return { outcome: "timeout", timeout: "no quorum confirmed" };
      return { outcome: "notLeader", notLeader: this.knownLeader() ?? 0 };
    }
    const settled = await this.proposeLocally(decoded.value, timeoutMs, request.command);
    switch (settled.kind) {
      case "applied":
        return {
          outcome: "result",
          result: encodeResult(settled.result),
          index: settled.result.index,
        };
      case "not-leader":
        return { outcome: "notLeader", notLeader: this.knownLeader() ?? 0 };
      case "timeout":
        return { outcome: "timeout", timeout: "not decided in time" };
    }
  }

  // ---- reads -----------------------------------------------------------------

  appliedView(minIndex: number): KvProjection | null {
    return this.machine.appliedIndex >= minIndex ? this.machine.current : null;
  }

  async readView(
    consistency: Consistency,
    minIndex: number,
    timeoutMs: number,
  ): Promise<ReadOutcome> {
    if (consistency === "sequential") {
      // Local state, once it reflects at least what the client has already seen.
      const reached = await this.machine.waitForIndex(minIndex, timeoutMs);
      if (!reached) {
        return {
          kind: "unavailable",
          reason: `this replica has not applied index ${minIndex} yet (at ${this.machine.appliedIndex})`,
          retryAfterSeconds: 1,
        };
      }
      return { kind: "ok", view: this.machine.current };
    }
    // Linearizable: the leader's read index (a read marker carries the request
    // when forwarded; it never enters the log); answer from a state at or after it.
    const deadline = Date.now() + timeoutMs;
    const marker = readMarker(this.readerId, ++this.readRequestId);
    const outcome = await this.runCommand(marker, timeoutMs);
    if (outcome.kind !== "ok") return outcome;
    if (outcome.view) return { kind: "ok", view: outcome.view };
    const index = Math.max(outcome.result.index, minIndex);
    const reached = await this.machine.waitForIndex(index, Math.max(0, deadline - Date.now()));
    if (!reached) {
      return {
        kind: "unavailable",
        reason: `read marker at ${index} not applied here in time`,
        retryAfterSeconds: 1,
      };
    }
    return { kind: "ok", view: this.machine.current };
  }

  // ---- status ------------------------------------------------------------------

  digest(): { index: number; digest: string } {
    return { index: this.machine.appliedIndex, digest: digest(this.machine.current) };
  }

  replay(): ReplayReport {
    const core = this.core;
    if (!core) throw new Error("replica not started");
    return replayCheck(
      this.machine,
      (from, to) => core.learner.entries(from, to, Number.MAX_SAFE_INTEGER),
      this.config.domain,
      this.log,
    );
  }

  async cluster(local: boolean): Promise<ClusterView> {
    const view = this.localView();
    if (local || view.learnedIndexesFrom !== null || view.leader === null) return view;
    const leaderUrl = this.coordinator.members.get(nodeId(view.leader))?.restUrl;
    if (!leaderUrl) return view;
    const leaderView = await fetchClusterView(leaderUrl, LEADER_VIEW_TIMEOUT_MS);
    if (!leaderView || leaderView.learnedIndexesFrom !== leaderView.nodeId) return view;
    const learned = new Map(leaderView.members.map((m) => [m.id, m.learnedIndex]));
    return {
      ...view,
      learnedIndexesFrom: leaderView.nodeId,
      members: view.members.map((m) =>
        m.id === this.id ? m : { ...m, learnedIndex: learned.get(m.id) ?? null },
      ),
    };
  }

  private localView(): ClusterView {
    const core = this.core;
    if (!core) throw new Error("replica not started");
    const status = core.status();
    const mem = process.memoryUsage();
    const live = this.coordinator.members;
    const members = [...this.config.peers].map(([id, grpcAddress]) => {
      const info = live.get(id);
      const learned =
        id === this.id
          ? status.chosenIndex
          : (status.peers.find((p) => p.id === id)?.learnedIndex ?? null);
      return {
        id,
        status: (info ? (id === this.id && status.recovering ? "recovering" : "up") : "down") as
          | "up"
          | "recovering"
          | "down",
        learnedIndex: learned,
        restUrl: info?.restUrl ?? null,
        grpcAddress,
        incarnation: info?.incarnation ?? null,
      };
    });
    return {
      nodeId: this.id,
      learnedIndexesFrom: status.role === "leader" ? this.id : null,
      leader: this.coordinator.leader,
      role: status.role,
      ballot: status.promised,
      leaderBallot: status.leaderBallot,
      members,
      chosenIndex: status.chosenIndex,
      appliedIndex: this.machine.appliedIndex,
      disposeBelow: status.disposeBelow,
      snapshotIndex: this.machine.latestSnapshot.index,
      logStartsAfter: status.snapshotIndex,
      recovering: status.recovering,
      etcdReachable: this.coordinator.etcdReachable ?? null,
      incarnation: status.incarnation,
      memory: { heapUsedBytes: mem.heapUsed, rssBytes: mem.rss },
      retainedEntries: status.retainedEntries,
      acceptorInstances: status.acceptorInstances,
      waitingCommands: this.waiters.size,
      peerLinks: this.transport?.stats() ?? [],
    };
  }
}

/** How long a follower's /v1/cluster waits for the leader's view. */
const LEADER_VIEW_TIMEOUT_MS = 300;

/** Another replica's local view, or null if it does not answer in time. */
async function fetchClusterView(restUrl: string, timeoutMs: number): Promise<ClusterView | null> {
  try {
    const res = await fetch(`${restUrl}/v1/cluster?local=true`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? ((await res.json()) as ClusterView) : null;
  } catch {
    return null;
  }
}
