import type { Acceptor } from "./acceptor";
import { type CoreConfig, quorumSize } from "./config";
import type { Outbox } from "./effects";
import { invariant } from "./invariant";
import type { Learner } from "./learner";
import type { Accepted, Learned, Nack, PromiseEntry, PromiseMsg } from "./messages";
import { ReadRounds, readIndexFor } from "./read-index";
import {
  type Ballot,
  ballotEquals,
  ballotLess,
  type LogIndex,
  NOOP,
  type NodeId,
  type Value,
  valuesEqual,
} from "./types";

/** What the leader needs from the replica core it lives in. */
export interface LeaderHost {
  readonly config: CoreConfig;
  readonly acceptor: Acceptor;
  readonly learner: Learner;
  readonly out: Outbox;
  readonly now: number;
  readonly recovering: boolean;
  readonly incarnation: number;
  /** Everything this replica knows at or above `fromIndex`, as its own promise. */
  promiseEntries(fromIndex: LogIndex): PromiseEntry[];
  /** Records a chosen value (and everything that follows from it). */
  learn(index: LogIndex, value: Value): void;
  /** Disposes instance state below `below` on this replica. */
  dispose(below: LogIndex): void;
  /** This replica leads `ballot`, whose Phase 1 recovered up to `horizon`. */
  ownBallotStarted(ballot: Ballot, horizon: LogIndex): void;
}

interface InFlight {
  readonly value: Value;
  readonly acceptedBy: Set<NodeId>;
  sentAt: number;
}

type Phase =
  | { readonly kind: "follower" }
  | { readonly kind: "awaiting-round"; readonly since: number }
  | {
      readonly kind: "preparing";
      /** When this leadership attempt began (for the quorum-loss check). */
      readonly startedAt: number;
      readonly ballot: Ballot;
      readonly fromIndex: LogIndex;
      /** Promises that count: from replicas that are not recovering. */
      readonly promises: Map<NodeId, readonly PromiseEntry[]>;
      readonly answered: Set<NodeId>;
      sentAt: number;
    }
  | {
      readonly kind: "leading";
      readonly startedAt: number;
      readonly ballot: Ballot;
      readonly horizon: LogIndex;
      nextIndex: LogIndex;
      readonly inFlight: Map<LogIndex, InFlight>;
      lastHeartbeat: number;
      /** The chosen watermark the followers were last told. */
      announced: LogIndex;
    };

export interface Progress {
  readonly incarnation: number;
  readonly learnedIndex: LogIndex;
  readonly heardAt: number;
}

/**
 * The distinguished proposer. It runs Phase 1 once per ballot for every
 * instance from the first one it has not learned, re-proposes what the
 * promises reveal (no-ops for holes), then runs Phase 2 only, with up to
 * `window` instances in flight and one batch of queued commands per instance.
 */
export class Leader {
  private phase: Phase = { kind: "follower" };
  private wantsToLead = false;
  private retryAt = 0;
  private pending: Uint8Array[] = [];
  private readonly progress = new Map<NodeId, Progress>();
  /** The tick at which each peer was last heard from (any message). */
  private readonly lastHeard = new Map<NodeId, number>();
  private live: ReadonlySet<NodeId>;
  private readonly peers: readonly NodeId[];
  private readonly quorum: number;
  private readonly reads: ReadRounds;

  constructor(private readonly host: LeaderHost) {
    const { id, members } = host.config;
    this.peers = members.filter((m) => m !== id);
    this.quorum = quorumSize(members.length);
    this.live = new Set(members);
    this.reads = new ReadRounds(this.quorum);
  }

  get id(): NodeId {
    return this.host.config.id;
  }

  get ballot(): Ballot | null {
    return this.phase.kind === "preparing" || this.phase.kind === "leading"
      ? this.phase.ballot
      : null;
  }

  get isLeading(): boolean {
    return this.phase.kind === "leading";
  }

  get phaseName(): Phase["kind"] {
    return this.phase.kind;
  }

  get inFlightCount(): number {
    return this.phase.kind === "leading" ? this.phase.inFlight.size : 0;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** A linearizable read: answered in `readsReady` once a quorum confirms our ballot. */
  requestRead(id: number): void {
    const phase = this.phase;
    if (phase.kind !== "leading") {
      this.host.out.readsFailed.push(id);
      return;
    }
    const index = readIndexFor(this.host.learner.chosenIndex, phase.horizon, phase.nextIndex - 1);
    if (this.reads.add({ id, index })) this.startReadRound();
  }

  private startReadRound(): void {
    const phase = this.phase;
    if (phase.kind !== "leading") return;
    const seq = this.reads.start(this.host.now);
    if (seq === null) return;
    // The leader stands by its own ballot: alone it is a quorum of one replica.
    const alone = this.reads.ack(this.id, seq);
    if (alone) {
      this.host.out.readsReady.push(...alone);
      return;
    }
    this.sendCommits(phase, false, seq, () => true);
  }

  progressOf(peer: NodeId): Progress | undefined {
    return this.progress.get(peer);
  }

  setLiveMembers(ids: readonly NodeId[]): void {
    this.live = new Set(ids);
  }

  /** The leader hint (etcd's election) names this replica, or stops naming it. */
  setWantsToLead(wants: boolean): void {
    this.wantsToLead = wants;
    if (!wants) this.stepDown("the leader hint names another replica", true);
    else if (this.phase.kind === "follower") this.requestRound();
  }

  propose(commands: readonly Uint8Array[]): void {
    if (!this.wantsToLead) {
      this.host.out.rejected.push(...commands);
      return;
    }
    const room = this.host.config.maxPendingCommands - this.pending.length;
    if (room < commands.length) this.host.out.rejected.push(...commands.slice(Math.max(room, 0)));
    if (room > 0)
      this.pending.push(...(room < commands.length ? commands.slice(0, room) : commands));
    if (this.phase.kind === "leading") this.proposePending();
    else if (this.phase.kind === "follower" && this.host.now >= this.retryAt) this.requestRound();
  }

  grantRound(round: number): void {
    if (this.phase.kind !== "awaiting-round" || !this.wantsToLead) return;
    const ballot: Ballot = { round, nodeId: this.id };
    if (!ballotLess(this.host.acceptor.promised, ballot)) {
      // Someone holds a higher promise already: ask again later for a newer round.
      this.phase = { kind: "follower" };
      this.retryAt = this.host.now + this.host.config.roundRetryTicks;
      return;
    }
    this.startPhase1(ballot);
  }

  private requestRound(): void {
    this.phase = { kind: "awaiting-round", since: this.host.now };
    this.host.out.requestRound = true;
  }

  private startPhase1(ballot: Ballot): void {
    const { acceptor, learner, out } = this.host;
    const fromIndex = learner.chosenIndex + 1;
    invariant(
      fromIndex >= acceptor.disposeBelow,
      () => `Phase 1 would prepare disposed instance ${fromIndex}`,
    );
    const outcome = acceptor.prepare(ballot, fromIndex);
    invariant(outcome === "promised", () => `own acceptor refused ballot: ${outcome}`);
    const phase: Phase = {
      kind: "preparing",
      startedAt: this.phase.kind === "preparing" ? this.phase.startedAt : this.host.now,
      ballot,
      fromIndex,
      promises: new Map(),
      answered: new Set([this.id]),
      sentAt: this.host.now,
    };
    this.phase = phase;
    if (!this.host.recovering) phase.promises.set(this.id, this.host.promiseEntries(fromIndex));
    for (const to of this.peers)
      out.send({ type: "prepare", from: this.id, to, ballot, fromIndex });
    this.maybeFinishPhase1();
  }

  onPromise(m: PromiseMsg): void {
    const phase = this.phase;
    if (phase.kind !== "preparing" || !ballotEquals(m.ballot, phase.ballot)) return;
    if (m.fromIndex !== phase.fromIndex) return;
    phase.answered.add(m.from);
    // A recovering replica may have forgotten accepted values: its promise
    // cannot stand for what it accepted before the crash (DESIGN §4).
    if (!m.recovering) phase.promises.set(m.from, m.entries);
    this.maybeFinishPhase1();
  }

  private maybeFinishPhase1(): void {
    const phase = this.phase;
    if (phase.kind !== "preparing" || phase.promises.size < this.quorum) return;
    if (this.host.learner.chosenIndex + 1 > phase.fromIndex) {
      // We learned more while preparing: prepare again from the new start so
      // that nothing below our disposal watermark is ever proposed.
      this.startPhase1(phase.ballot);
      return;
    }
    const recovered = mergePromises(phase.promises.values());
    let horizon = phase.fromIndex - 1;
    for (const index of recovered.keys()) horizon = Math.max(horizon, index);
    this.phase = {
      kind: "leading",
      startedAt: phase.startedAt,
      ballot: phase.ballot,
      horizon,
      nextIndex: horizon + 1,
      inFlight: new Map(),
      lastHeartbeat: this.host.now,
      announced: this.host.learner.chosenIndex,
    };
    this.host.out.event({
      type: "leading",
      ballot: phase.ballot,
      fromIndex: phase.fromIndex,
      horizon,
    });
    this.host.ownBallotStarted(phase.ballot, horizon);
    for (let index = phase.fromIndex; index <= horizon; index++) {
      const reported = recovered.get(index);
      const known = this.host.learner.valueAt(index);
      if (known) {
        // Already chosen and learned here: nothing to recover, and an instance
        // in flight that nobody needs to answer could outlive its disposal.
        if (reported?.ballot === null) {
          invariant(valuesEqual(known, reported.value), () => `two chosen values at ${index}`);
        }
        continue;
      }
      if (!this.proposeAt(index, reported?.value ?? NOOP)) return;
    }
    this.proposePending();
  }

  /** Proposes queued commands while the pipeline has room. */
  private proposePending(): void {
    const { window, maxBatchCommands, maxBatchBytes } = this.host.config;
    while (this.phase.kind === "leading" && this.pending.length > 0) {
      if (this.phase.inFlight.size >= window) return;
      let count = 0;
      let bytes = 0;
      while (count < this.pending.length && count < maxBatchCommands) {
        const size = this.pending[count]!.byteLength;
        if (count > 0 && bytes + size > maxBatchBytes) break;
        bytes += size;
        count++;
      }
      // An index we already learned (a competing leader's entry, by catch-up)
      // is decided: never propose into it.
      const { learner } = this.host;
      while (
        this.phase.nextIndex <= learner.chosenIndex ||
        learner.valueAt(this.phase.nextIndex) !== undefined
      ) {
        this.phase.nextIndex++;
      }
      const commands = this.pending.splice(0, count);
      if (!this.proposeAt(this.phase.nextIndex, { type: "batch", commands })) {
        this.pending.unshift(...commands);
        return;
      }
      this.phase.nextIndex++;
    }
  }

  /** Phase 2 for one instance; false if our own acceptor refused (we were preempted). */
  private proposeAt(index: LogIndex, value: Value): boolean {
    const phase = this.phase;
    invariant(phase.kind === "leading", () => "proposing without leading");
    const { acceptor, learner, out } = this.host;
    invariant(
      index >= acceptor.disposeBelow,
      () =>
        `leader would propose disposed instance ${index} (disposeBelow ${acceptor.disposeBelow})`,
    );
    const outcome = acceptor.accept(phase.ballot, index, value);
    if (outcome !== "accepted") {
      this.preempted(`own acceptor refused instance ${index}: ${outcome}`);
      return false;
    }
    phase.inFlight.set(index, { value, acceptedBy: new Set([this.id]), sentAt: this.host.now });
    phase.announced = learner.chosenIndex;
    for (const to of this.peers) {
      out.send({
        type: "accept",
        from: this.id,
        to,
        ballot: phase.ballot,
        index,
        value,
        horizon: phase.horizon,
        chosenIndex: learner.chosenIndex,
      });
    }
    this.checkChosen(index);
    return true;
  }

  onAccepted(m: Accepted): void {
    const phase = this.phase;
    if (phase.kind !== "leading" || !ballotEquals(m.ballot, phase.ballot)) return;
    const instance = phase.inFlight.get(m.index);
    if (!instance) return;
    instance.acceptedBy.add(m.from);
    this.checkChosen(m.index);
    this.proposePending();
  }

  private checkChosen(index: LogIndex): void {
    const phase = this.phase;
    if (phase.kind !== "leading") return;
    const instance = phase.inFlight.get(index);
    if (instance && instance.acceptedBy.size >= this.quorum) this.host.learn(index, instance.value);
  }

  /**
   * Every learned value passes here. A value learned for an instance we have
   * in flight with a different value means a higher ballot chose it: our
   * ballot is dead, and announcing commits for it would mislead learners.
   */
  onLearned(index: LogIndex, value: Value): void {
    const phase = this.phase;
    if (phase.kind !== "leading") return;
    const instance = phase.inFlight.get(index);
    if (!instance) return;
    phase.inFlight.delete(index);
    if (!valuesEqual(instance.value, value)) {
      this.preempted(`instance ${index} was chosen with another value`);
    }
  }

  onNack(m: Nack): void {
    const ballot = this.ballot;
    if (ballot && ballotEquals(m.ballot, ballot) && ballotLess(ballot, m.promised)) {
      this.preempted(`nack from ${m.from}`);
    }
  }

  /** Called whenever this replica sees a ballot: a higher one ends ours. */
  observeBallot(seen: Ballot, from: NodeId): void {
    const ballot = this.ballot;
    if (ballot && ballotLess(ballot, seen)) this.preempted(`higher ballot seen from ${from}`);
  }

  onLearnedReport(m: Learned): void {
    const known = this.progress.get(m.from);
    if (
      !known ||
      m.incarnation > known.incarnation ||
      (m.incarnation === known.incarnation && m.learnedIndex >= known.learnedIndex)
    ) {
      this.progress.set(m.from, {
        incarnation: m.incarnation,
        learnedIndex: m.learnedIndex,
        heardAt: this.host.now,
      });
    }
    this.observeBallot(m.promised, m.from);
    const phase = this.phase;
    // Still leading after observing its promise: it has promised nothing above our ballot.
    if (m.readSeq && phase.kind === "leading" && !ballotLess(phase.ballot, m.promised)) {
      const confirmed = this.reads.ack(m.from, m.readSeq);
      if (confirmed) {
        this.host.out.readsReady.push(...confirmed);
        this.startReadRound();
      }
    }
  }

  /** The replica installed a snapshot: instances we had in flight below it are out of our hands. */
  snapshotInstalled(index: LogIndex): void {
    const phase = this.phase;
    if (phase.kind !== "leading") return;
    for (const i of phase.inFlight.keys()) {
      if (i <= index) {
        this.preempted(`snapshot at ${index} covers instance ${i} in flight`);
        return;
      }
    }
  }

  private preempted(reason: string): void {
    this.stepDown(reason, !this.wantsToLead);
    this.retryAt = this.host.now + this.host.config.roundRetryTicks;
  }

  private stepDown(reason: string, rejectPending: boolean): void {
    const ballot = this.ballot;
    if (ballot) this.host.out.event({ type: "stepped-down", ballot, reason });
    this.phase = { kind: "follower" };
    this.host.out.readsFailed.push(...this.reads.failAll());
    if (rejectPending && this.pending.length > 0) {
      this.host.out.rejected.push(...this.pending);
      this.pending = [];
    }
  }

  heard(from: NodeId): void {
    this.lastHeard.set(from, this.host.now);
  }

  /** This replica plus the peers heard from within `quorumLossTicks` make a quorum. */
  private hasQuorumContact(): boolean {
    const { now, config } = this.host;
    let reachable = 1;
    for (const peer of this.peers) {
      const at = this.lastHeard.get(peer);
      if (at !== undefined && now - at <= config.quorumLossTicks) reachable++;
    }
    return reachable >= this.quorum;
  }

  tick(): void {
    const { now, config, out, learner } = this.host;
    const phase = this.phase;
    if (
      (phase.kind === "preparing" || phase.kind === "leading") &&
      now - phase.startedAt >= config.quorumLossTicks &&
      !this.hasQuorumContact()
    ) {
      // Cut off from a majority (while etcd may still name us): let a replica
      // that can reach one lead. The hint will move; if it comes back to us,
      // we try again after the wait.
      this.stepDown("no quorum of peers heard from", true);
      this.retryAt = now + config.quorumLossTicks;
      out.relinquish = true;
      return;
    }
    switch (phase.kind) {
      case "follower":
        if (this.wantsToLead && now >= this.retryAt) this.requestRound();
        return;
      case "awaiting-round":
        if (now - phase.since >= config.roundRetryTicks) this.requestRound();
        return;
      case "preparing":
        if (learner.chosenIndex + 1 > phase.fromIndex) {
          this.startPhase1(phase.ballot);
          return;
        }
        if (now - phase.sentAt < config.resendTicks) return;
        phase.sentAt = now;
        for (const to of this.peers) {
          if (phase.answered.has(to)) continue;
          const m = {
            type: "prepare",
            from: this.id,
            to,
            ballot: phase.ballot,
            fromIndex: phase.fromIndex,
          } as const;
          out.send(m);
        }
        return;
      case "leading": {
        this.resendAccepts(phase);
        const due = this.reads.due(now, config.resendTicks);
        if (due) this.sendCommits(phase, false, due.seq, due.missing);
        if (now - phase.lastHeartbeat >= config.heartbeatTicks) {
          phase.lastHeartbeat = now;
          this.host.dispose(this.disposalWatermark());
          this.announce(true);
        }
        return;
      }
    }
  }

  private resendAccepts(phase: Extract<Phase, { kind: "leading" }>): void {
    const { now, config, out, learner } = this.host;
    for (const [index, instance] of phase.inFlight) {
      if (now - instance.sentAt < config.resendTicks) continue;
      invariant(
        index >= this.host.acceptor.disposeBelow,
        () => `leader would resend disposed instance ${index}`,
      );
      instance.sentAt = now;
      for (const to of this.peers) {
        if (instance.acceptedBy.has(to)) continue;
        out.send({
          type: "accept",
          from: this.id,
          to,
          ballot: phase.ballot,
          index,
          value: instance.value,
          horizon: phase.horizon,
          chosenIndex: learner.chosenIndex,
        });
      }
    }
  }

  /** After each input: tell followers when the chosen watermark moved. */
  announceIfAdvanced(): void {
    const phase = this.phase;
    if (phase.kind === "leading" && this.host.learner.chosenIndex > phase.announced) {
      this.announce(false);
    }
  }

  private announce(heartbeat: boolean): void {
    const phase = this.phase;
    if (phase.kind !== "leading") return;
    this.sendCommits(phase, heartbeat, 0, () => true);
  }

  /** Commits to the peers `to` selects; `readSeq` > 0 asks them to confirm that read round. */
  private sendCommits(
    phase: Extract<Phase, { kind: "leading" }>,
    heartbeat: boolean,
    readSeq: number,
    to: (peer: NodeId) => boolean,
  ): void {
    const { learner, acceptor, out } = this.host;
    phase.announced = learner.chosenIndex;
    for (const peer of this.peers) {
      if (!to(peer)) continue;
      out.send({
        type: "commit",
        from: this.id,
        to: peer,
        ballot: phase.ballot,
        chosenIndex: learner.chosenIndex,
        disposeBelow: acceptor.disposeBelow,
        horizon: phase.horizon,
        heartbeat,
        ...(readSeq > 0 ? { readSeq } : {}),
      });
    }
  }

  /**
   * disposeBelow = 1 + the lowest learned index over every live member (this
   * replica included). A live member we never heard from holds it at 1.
   */
  private disposalWatermark(): LogIndex {
    let lowest = this.host.learner.chosenIndex;
    for (const peer of this.peers) {
      if (!this.live.has(peer)) continue;
      lowest = Math.min(lowest, this.progress.get(peer)?.learnedIndex ?? 0);
    }
    return lowest + 1;
  }
}

/**
 * For each index, the value Phase 1 must re-propose: a value reported as
 * chosen wins; otherwise the one accepted with the highest ballot.
 */
function mergePromises(promises: Iterable<readonly PromiseEntry[]>): Map<LogIndex, PromiseEntry> {
  const merged = new Map<LogIndex, PromiseEntry>();
  for (const entries of promises) {
    for (const entry of entries) {
      const current = merged.get(entry.index);
      if (!current) {
        merged.set(entry.index, entry);
      } else if (entry.ballot === null) {
        if (current.ballot === null) {
          invariant(
            valuesEqual(current.value, entry.value),
            () => `promises report two chosen values at ${entry.index}`,
          );
        } else {
          merged.set(entry.index, entry);
        }
      } else if (current.ballot !== null && ballotLess(current.ballot, entry.ballot)) {
        merged.set(entry.index, entry);
      }
    }
  }
  return merged;
}
