import { Acceptor } from "./acceptor";
import { type CoreConfig, quorumSize } from "./config";
import { type Effects, Outbox } from "./effects";
import { invariant } from "./invariant";
import { Leader, type LeaderHost } from "./leader";
import { Learner } from "./learner";
import type {
  Accept,
  CatchUp,
  CatchUpReply,
  Commit,
  Message,
  Prepare,
  PromiseEntry,
} from "./messages";
import {
  type Ballot,
  ballotLess,
  fenceBallot,
  formatBallot,
  type LogIndex,
  NO_BALLOT,
  type NodeId,
  type Value,
} from "./types";

/** How this incarnation of the replica starts. */
export interface StartState {
  /**
   * The etcd ballot counter read when this process restarted. Every ballot
   * this replica may have promised in an earlier life has a round at or below
   * it. 0 means there is nothing to forget: no earlier life (a replica's first
   * start) or no ballot ever allocated.
   */
  readonly fenceRound: number;
  /** Grows with every restart of this replica. */
  readonly incarnation: number;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly incarnation: number;
  readonly role: "leader" | "preparing" | "awaiting-round" | "follower";
  readonly promised: Ballot;
  readonly leaderBallot: Ballot;
  readonly leaderId: NodeId | null;
  readonly chosenIndex: LogIndex;
  readonly knownChosen: LogIndex;
  readonly disposeBelow: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly recovering: boolean;
  readonly recoveryBarrier: LogIndex | null;
  readonly inFlight: number;
  readonly pending: number;
  readonly retainedEntries: number;
  readonly acceptorInstances: number;
  readonly peers: readonly {
    id: NodeId;
    learnedIndex: LogIndex | null;
    incarnation: number | null;
  }[];
}

/** How many unlearned instances one commit may resolve from local acceptances. */
const LEARN_SCAN_LIMIT = 4096;

/**
 * One replica's MultiPaxos core: acceptor, learner and (when the leader hint
 * names it) proposer. Pure and deterministic: time arrives as `tick()`,
 * messages as `step()`, coordination as method calls, and every call returns
 * the effects the driver must carry out.
 *
 * Recovery (DESIGN §4): a replica that restarts without memory starts with a
 * fence promise at the etcd round it read, and stays *recovering* until it has
 * learned every entry up to the horizon of a ballot started after the fence
 * (the last index that ballot's Phase 1 re-proposed). Until then its Phase 1
 * promises do not count toward a quorum; it may vote in Phase 2.
 */
export class PaxosNode {
  readonly acceptor: Acceptor;
  readonly learner = new Learner();
  readonly out = new Outbox();
  private readonly leader: Leader;
  private readonly peers: readonly NodeId[];
  private readonly quorum: number;
  private ticks = 0;
  private isRecovering: boolean;
  private recoveryBarrier: LogIndex | null = null;
  private leaderBallot: Ballot = NO_BALLOT;
  private leaderId: NodeId | null = null;
  private catchUpAt = 0;
  private catchUpAttempt = 0;
  private snapshotWaitUntil = -1;

  constructor(
    readonly config: CoreConfig,
    readonly start: StartState,
  ) {
    invariant(config.members.includes(config.id), () => `node ${config.id} not among members`);
    this.peers = config.members.filter((m) => m !== config.id);
    this.quorum = quorumSize(config.members.length);
    this.acceptor = new Acceptor(fenceBallot(start.fenceRound));
    // A single-replica cluster that restarts has nobody to recover from.
    this.isRecovering = start.fenceRound > 0 && config.members.length > 1;
    const node = this;
    const host: LeaderHost = {
      config,
      acceptor: this.acceptor,
      learner: this.learner,
      out: this.out,
      get now() {
        return node.ticks;
      },
      get recovering() {
        return node.isRecovering;
      },
      incarnation: start.incarnation,
      promiseEntries: (from) => this.promiseEntries(from),
      learn: (index, value) => this.learn(index, value),
      dispose: (below) => this.dispose(below),
      ownBallotStarted: (ballot, horizon) => this.noteBallotHorizon(ballot, horizon),
    };
    this.leader = new Leader(host);
  }

  get id(): NodeId {
    return this.config.id;
  }

  get now(): number {
    return this.ticks;
  }

  get recovering(): boolean {
    return this.isRecovering;
  }

  /** True while this replica leads a ballot (Phase 1 done). */
  get leading(): boolean {
    return this.leader.isLeading;
  }

  /** The replica this one believes leads (itself when leading), if any. */
  get knownLeader(): NodeId | null {
    return this.leader.isLeading ? this.id : this.leaderId;
  }

  // ---- inputs ---------------------------------------------------------------

  tick(): Effects {
    this.ticks++;
    this.leader.tick();
    this.maybeCatchUp();
    return this.finish();
  }

  propose(commands: readonly Uint8Array[]): Effects {
    this.leader.propose(commands);
    return this.finish();
  }

  /**
   * A linearizable read, by read index (see read-index.ts): it ends in
   * `readsReady` with the index to have applied before answering, or in
   * `readsFailed` when this replica does not lead.
   */
  readIndex(id: number): Effects {
    this.leader.requestRead(id);
    return this.finish();
  }

  setLeaderHint(leader: NodeId | null): Effects {
    this.leader.setWantsToLead(leader === this.id);
    return this.finish();
  }

  grantRound(round: number): Effects {
    this.leader.grantRound(round);
    return this.finish();
  }

  setLiveMembers(ids: readonly NodeId[]): Effects {
    this.leader.setLiveMembers(ids);
    return this.finish();
  }

  /** The state machine installed a snapshot taken at `index` (fetched from a peer). */
  installSnapshot(index: LogIndex): Effects {
    this.snapshotWaitUntil = -1;
    if (this.learner.installSnapshot(index, this.out.decided)) {
      this.dispose(index + 1);
      this.leader.snapshotInstalled(index);
      this.checkRecovered();
    }
    return this.finish();
  }

  /**
   * The snapshot asked for in `snapshotNeeded` was not installed: the
   * transfer failed, or brought nothing newer than what was learned since.
   * Catch-up resumes after `resendTicks` (another peer is asked in turn)
   * instead of waiting out `snapshotRetryTicks`, which only covers a
   * transfer the driver never reports on.
   */
  snapshotFailed(): Effects {
    this.snapshotWaitUntil = -1;
    this.catchUpAt = this.ticks + this.config.resendTicks;
    return this.finish();
  }

  /** The state machine snapshotted its own state at `index`: the log up to it may go. */
  compact(index: LogIndex): Effects {
    this.learner.compact(Math.min(index, this.learner.chosenIndex));
    return this.finish();
  }

  step(m: Message): Effects {
    invariant(m.to === this.id, () => `message for ${m.to} delivered to ${this.id}`);
    this.leader.heard(m.from);
    switch (m.type) {
      case "prepare":
        this.onPrepare(m);
        break;
      case "promise":
        this.leader.onPromise(m);
        break;
      case "nack":
        this.leader.onNack(m);
        break;
      case "disposed":
        // The peer disposed or compacted instances we still need: they are
        // chosen, so catch up (by snapshot if its log no longer has them).
        this.learner.hearChosen(Math.max(m.disposeBelow - 1, m.snapshotIndex));
        break;
      case "accept":
        this.onAccept(m);
        break;
      case "accepted":
        this.leader.onAccepted(m);
        break;
      case "commit":
        this.onCommit(m);
        break;
      case "learned":
        this.leader.onLearnedReport(m);
        break;
      case "catchup":
        this.onCatchUp(m);
        break;
      case "catchup-reply":
        this.onCatchUpReply(m);
        break;
    }
    return this.finish();
  }

  // ---- acceptor -------------------------------------------------------------

  private onPrepare(m: Prepare): void {
    // Below our log's start, our record of what was chosen lives only in the
    // snapshot: a promise from here would report nothing for indexes this
    // replica may have helped choose (it may have learned them by catch-up
    // after a crash, never accepting them). Refuse, as for a disposed index.
    if (m.fromIndex <= this.learner.snapshotIndex) {
      this.refuseDisposed(m.from, "prepare", m.fromIndex);
      return;
    }
    const outcome = this.acceptor.prepare(m.ballot, m.fromIndex);
    if (outcome === "disposed") {
      this.refuseDisposed(m.from, "prepare", m.fromIndex);
      return;
    }
    if (outcome === "nack") {
      this.nack(m.from, m.ballot);
      return;
    }
    this.leader.observeBallot(m.ballot, m.from);
    this.out.send({
      type: "promise",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      fromIndex: m.fromIndex,
      recovering: this.isRecovering,
      entries: this.promiseEntries(m.fromIndex),
    });
  }

  private onAccept(m: Accept): void {
    const outcome = this.acceptor.accept(m.ballot, m.index, m.value);
    if (outcome === "disposed") {
      this.refuseDisposed(m.from, "accept", m.index);
      return;
    }
    if (outcome === "nack") {
      this.nack(m.from, m.ballot);
      return;
    }
    this.out.send({
      type: "accepted",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      index: m.index,
    });
    this.leader.observeBallot(m.ballot, m.from);
    this.followLeader(m.from, m.ballot, m.horizon, m.chosenIndex);
    // Chosen means a quorum voted for (ballot, index, value). The owner of a
    // ballot votes for a value before it sends that Accept (Leader.proposeAt;
    // resends are of values it voted for), so the sender's vote and ours make
    // two: where two is a quorum (three replicas), we learn it now instead of
    // a round trip later from the Commit, and answer our clients sooner.
    if (m.ballot.nodeId === m.from && this.quorum <= 2) this.learn(m.index, m.value);
  }

  private nack(to: NodeId, ballot: Ballot): void {
    this.out.send({ type: "nack", from: this.id, to, ballot, promised: this.acceptor.promised });
  }

  private refuseDisposed(to: NodeId, what: "prepare" | "accept", index: LogIndex): void {
    const disposeBelow = this.acceptor.disposeBelow;
    this.out.event({ type: "refused-disposed", from: to, what, index, disposeBelow });
    this.out.send({
      type: "disposed",
      from: this.id,
      to,
      index,
      disposeBelow,
      snapshotIndex: this.learner.snapshotIndex,
    });
  }

  /** Our own promise: learned values as chosen, then accepted values with their ballots. */
  private promiseEntries(fromIndex: LogIndex): PromiseEntry[] {
    const entries: PromiseEntry[] = [];
    for (const [index, value] of this.learner.learnedFrom(fromIndex)) {
      entries.push({ index, value, ballot: null });
    }
    for (const [index, accepted] of this.acceptor.acceptedFrom(fromIndex)) {
      if (this.learner.valueAt(index) === undefined) {
        entries.push({ index, value: accepted.value, ballot: accepted.ballot });
      }
    }
    return entries;
  }

  private dispose(below: LogIndex): void {
    // Never dispose what this replica has not learned itself.
    const bound = Math.min(below, this.learner.chosenIndex + 1);
    if (this.acceptor.dispose(bound)) this.out.event({ type: "disposed", disposeBelow: bound });
  }

  // ---- learner --------------------------------------------------------------

  private onCommit(m: Commit): void {
    this.leader.observeBallot(m.ballot, m.from);
    this.followLeader(m.from, m.ballot, m.horizon, m.chosenIndex);
    this.dispose(m.disposeBelow);
    if (m.heartbeat || m.readSeq) {
      this.out.send({
        type: "learned",
        from: this.id,
        to: m.from,
        incarnation: this.start.incarnation,
        learnedIndex: this.learner.chosenIndex,
        promised: this.acceptor.promised,
        recovering: this.isRecovering,
        ...(m.readSeq ? { readSeq: m.readSeq } : {}),
      });
    }
  }

  /**
   * A leader of `ballot` says everything up to `chosenIndex` is chosen. An
   * instance we accepted in that same ballot holds the value that ballot
   * proposed there, which is the chosen one; others need catch-up.
   */
  private followLeader(
    from: NodeId,
    ballot: Ballot,
    horizon: LogIndex,
    chosenIndex: LogIndex,
  ): void {
    if (!ballotLess(ballot, this.leaderBallot)) {
      this.leaderBallot = ballot;
      this.leaderId = from;
    }
    this.noteBallotHorizon(ballot, horizon);
    this.learner.hearChosen(chosenIndex);
    const last = Math.min(chosenIndex, this.learner.chosenIndex + LEARN_SCAN_LIMIT);
    for (let index = this.learner.chosenIndex + 1; index <= last; index++) {
      const accepted = this.acceptor.acceptedAt(index);
      if (
        accepted &&
        accepted.ballot.round === ballot.round &&
        accepted.ballot.nodeId === ballot.nodeId
      ) {
        this.learn(index, accepted.value);
      }
    }
  }

  private learn(index: LogIndex, value: Value): void {
    this.learner.learn(index, value, this.out.decided);
    this.leader.onLearned(index, value);
    this.checkRecovered();
  }

  private noteBallotHorizon(ballot: Ballot, horizon: LogIndex): void {
    if (
      this.isRecovering &&
      this.recoveryBarrier === null &&
      ballot.round > this.start.fenceRound
    ) {
      this.recoveryBarrier = horizon;
      this.checkRecovered();
    }
  }

  private checkRecovered(): void {
    if (!this.isRecovering || this.recoveryBarrier === null) return;
    if (this.learner.chosenIndex < this.recoveryBarrier) return;
    this.isRecovering = false;
    this.out.event({ type: "left-recovery", chosenIndex: this.learner.chosenIndex });
  }

  private onCatchUp(m: CatchUp): void {
    const { learner, config } = this;
    this.out.send({
      type: "catchup-reply",
      from: this.id,
      to: m.from,
      entries: learner.entries(m.fromIndex, m.toIndex, config.maxCatchUpEntries),
      snapshotIndex: learner.snapshotIndex,
      chosenIndex: learner.chosenIndex,
    });
  }

  private onCatchUpReply(m: CatchUpReply): void {
    const before = this.learner.chosenIndex;
    this.learner.hearChosen(m.chosenIndex);
    for (const entry of m.entries) this.learn(entry.index, entry.value);
    const after = this.learner.chosenIndex;
    if (after === before && m.snapshotIndex > after) {
      // The peer's log starts after ours ends: only its snapshot can bridge the gap.
      if (this.ticks >= this.snapshotWaitUntil) {
        this.snapshotWaitUntil = this.ticks + this.config.snapshotRetryTicks;
        this.out.snapshotNeeded = { from: m.from, index: m.snapshotIndex };
      }
      return;
    }
    // Progress: ask the same peer for the next stretch right away.
    if (after > before && this.learner.knownChosen > after) this.requestCatchUp(m.from);
  }

  private maybeCatchUp(): void {
    const { learner } = this;
    if (learner.knownChosen <= learner.chosenIndex || this.peers.length === 0) return;
    if (this.ticks < this.catchUpAt || this.ticks < this.snapshotWaitUntil) return;
    // Alternate between the leader and every other peer in turn, so one
    // dead or lagging peer cannot stall the repair.
    const attempt = this.catchUpAttempt++;
    const target =
      attempt % 2 === 0 && this.leaderId !== null && this.leaderId !== this.id
        ? this.leaderId
        : this.peers[Math.floor(attempt / 2) % this.peers.length]!;
    this.requestCatchUp(target);
  }

  private requestCatchUp(to: NodeId): void {
    const { learner, config } = this;
    this.catchUpAt = this.ticks + config.resendTicks;
    this.out.send({
      type: "catchup",
      from: this.id,
      to,
      fromIndex: learner.chosenIndex + 1,
      toIndex: Math.min(learner.knownChosen, learner.chosenIndex + config.maxCatchUpEntries),
    });
  }

  private finish(): Effects {
    this.leader.announceIfAdvanced();
    invariant(
      this.acceptor.disposeBelow <= this.learner.chosenIndex + 1,
      () => `disposed ${this.acceptor.disposeBelow} beyond learned ${this.learner.chosenIndex}`,
    );
    return this.out.take();
  }

  // ---- status ---------------------------------------------------------------

  status(): NodeStatus {
    const phase = this.leader.phaseName;
    return {
      id: this.id,
      incarnation: this.start.incarnation,
      role: phase === "leading" ? "leader" : phase,
      promised: this.acceptor.promised,
      leaderBallot: this.leaderBallot,
      leaderId: this.leader.isLeading ? this.id : this.leaderId,
      chosenIndex: this.learner.chosenIndex,
      knownChosen: this.learner.knownChosen,
      disposeBelow: this.acceptor.disposeBelow,
      snapshotIndex: this.learner.snapshotIndex,
      recovering: this.isRecovering,
      recoveryBarrier: this.recoveryBarrier,
      inFlight: this.leader.inFlightCount,
      pending: this.leader.pendingCount,
      retainedEntries: this.learner.retained,
      acceptorInstances: this.acceptor.size,
      peers: this.peers.map((id) => {
        const p = this.leader.progressOf(id);
        return { id, learnedIndex: p?.learnedIndex ?? null, incarnation: p?.incarnation ?? null };
      }),
    };
  }

  describe(): string {
    const s = this.status();
    return `node ${s.id} ${s.role} promised=${formatBallot(s.promised)} chosen=${s.chosenIndex} disposeBelow=${s.disposeBelow}${s.recovering ? " recovering" : ""}`;
  }
}
