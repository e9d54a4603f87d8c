import {
  type Ballot,
  ballotLess,
  type CoreConfig,
  DEFAULT_CONFIG,
  type Effects,
  formatBallot,
  InvariantViolation,
  type LogIndex,
  type Message,
  type NodeId,
  nodeId,
  PaxosNode,
  type StartState,
  type Value,
  valuesEqual,
} from "../../consensus";
import { type NetworkFaults, SimNetwork } from "./network";
import { Prng } from "./prng";
import { type HistoryCheckSummary, SimHistory, writeKey } from "./sim-history";
import { formatValue, Trace } from "./trace";

export type NodeFactory = (config: CoreConfig, start: StartState) => PaxosNode;

export interface SimOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Ticks with faults on; invariants are checked after every step. */
  readonly safetyTicks?: number;
  /** Ticks allowed, once faults stop, for every command to be chosen everywhere. */
  readonly livenessTicks?: number;
  readonly clients?: number;
  /** Crash replicas with memory loss (and restart them empty). */
  readonly crashes?: boolean;
  /** Builds each replica's core: tests pass deliberately broken cores here. */
  readonly createNode?: NodeFactory;
  /**
   * Clients also read linearizably by read index (default true); each read's
   * index must cover everything applied anywhere before it was sent.
   */
  readonly reads?: boolean;
  /**
   * Check each read's index against what was applied before it was sent
   * (default true). Off, stale reads are left to the history check alone.
   */
  readonly checkReadIndex?: boolean;
  /** Check the clients' history for linearizability at the end of the run (default true). */
  readonly checkHistory?: boolean;
  readonly traceSize?: number;
}

export interface Violation {
  readonly tick: number;
  readonly kind: string;
  readonly detail: string;
}

export interface SimResult {
  readonly seed: number;
  readonly replicas: number;
  readonly steps: number;
  readonly ticks: number;
  readonly chosen: number;
  readonly commandsChosen: number;
  /** Read-index reads answered (and checked). */
  readonly readsServed: number;
  /** The clients' history as checked at the end; null when not checked (off, or another violation first). */
  readonly history: HistoryCheckSummary | null;
  readonly crashes: number;
  readonly violations: readonly Violation[];
  readonly faults: string;
  readonly trace: readonly string[];
}

/** One replica process: its core and its state machine (the applied log itself). */
interface SimReplica {
  readonly id: NodeId;
  readonly incarnation: number;
  readonly node: PaxosNode;
  /** applied[i - 1] is the value applied at index i. */
  applied: Value[];
  /** This replica's own snapshot: the applied prefix up to here, log compacted below. */
  snapshotIndex: LogIndex;
}

/** A replica process's snapshot cadence (its own flags: replicas may differ). */
interface Compaction {
  readonly every: number;
  readonly tail: number;
}

interface SimClient {
  readonly id: number;
  seq: number;
  current: { readonly key: string; readonly bytes: Uint8Array; sentAt: number } | null;
  /** The client's read in flight, if any. */
  read: PendingRead | null;
}

interface PendingRead {
  readonly id: number;
  readonly sentAt: number;
  /** The highest index applied anywhere when the read was sent: its answer must cover it. */
  readonly mustCover: LogIndex;
}

interface Scheduled {
  readonly at: number;
  readonly run: () => void;
}

/** A whole cluster of real cores in one process, driven by one seeded PRNG. */
export class Simulation {
  private readonly rng: Prng;
  private readonly network: SimNetwork;
  private readonly trace: Trace;
  private readonly members: NodeId[];
  private readonly replicas = new Map<NodeId, SimReplica>();
  private readonly downSince = new Map<NodeId, number>();
  private readonly incarnations = new Map<NodeId, number>();
  private readonly maxPromised = new Map<NodeId, Ballot>();
  private readonly chosen = new Map<LogIndex, Value>();
  private readonly chosenCommands = new Set<string>();
  private readonly proposed = new Set<string>();
  private readonly clients: SimClient[] = [];
  private scheduled: Scheduled[] = [];
  private readonly violations: Violation[] = [];
  private ballotCounter = 0;
  private elected: NodeId | null = null;
  private electionEpoch = 0;
  private readonly hintEpoch = new WeakMap<SimReplica, number>();
  private now = 0;
  private steps = 0;
  private crashCount = 0;
  private stable = false;
  private readonly config: Omit<CoreConfig, "id" | "members">;
  private readonly rates: {
    crash: number;
    partition: number;
    heal: number;
    bogusHint: number;
    /** Per tick: one replica's links start losing most or all messages for a while. */
    isolate: number;
    isolationLoss: number;
    /** Share of elections that name the live replica furthest behind. */
    laggardHint: number;
    /** Per replica (index id - 1). */
    compaction: readonly Compaction[];
    network: NetworkFaults;
  };
  private readonly laggardWeather: boolean;
  /** The replica whose links are degraded now, if any. */
  private isolated: NodeId | null = null;
  private readonly safetyTicks: number;
  private readonly livenessTicks: number;
  private readonly crashes: boolean;
  private readonly createNode: NodeFactory;
  private readonly reads: boolean;
  /** Decides when and where clients read: a stream of its own, so reads do not reshuffle fault draws. */
  private readonly readRng: Prng;
  private nextReadId = 0;
  private maxApplied = 0;
  private readsServed = 0;
  private readonly history = new SimHistory();
  private readonly quorumFaults: number;

  constructor(private readonly options: SimOptions) {
    this.rng = new Prng(options.seed);
    this.trace = new Trace(options.traceSize ?? 80);
    this.members = Array.from({ length: options.replicas }, (_, i) => nodeId(i + 1));
    this.quorumFaults = Math.floor((options.replicas - 1) / 2);
    this.safetyTicks = options.safetyTicks ?? 400;
    this.livenessTicks = options.livenessTicks ?? 700;
    this.crashes = options.crashes ?? true;
    this.createNode = options.createNode ?? ((config, start) => new PaxosNode(config, start));
    this.reads = options.reads ?? true;
    this.readRng = new Prng(options.seed ^ 0x7ead);
    // Each seed draws its own fault rates, so seeds explore different weather.
    // A third of the seeds have a laggard's weather: replicas that fall
    // behind while live, with the crashes that come with them, and no other
    // storm to cover it (partitions and bogus hints heal what lags).
    const r = this.rng;
    this.laggardWeather = r.chance(1 / 3);
    const lag = this.laggardWeather;
    this.rates = {
      crash: lag ? 0 : r.pick([0, 0.005, 0.01, 0.03]),
      partition: lag ? 0 : r.pick([0, 0.005, 0.02]),
      heal: r.pick([0.02, 0.1]),
      bogusHint: lag ? 0 : r.pick([0, 0.005, 0.02]),
      isolate: lag ? r.pick([0.01, 0.02, 0.03]) : r.pick([0, 0, 0.005]),
      isolationLoss: lag ? r.pick([0.5, 0.7]) : r.pick([0.5, 0.7, 0.9]),
      laggardHint: lag ? 0.7 : r.pick([0, 0.3]),
      compaction: drawCompaction(r, options.replicas),
      network: {
        drop: r.pick([0, 0.02, 0.1, 0.25]),
        duplicate: r.pick([0, 0.02, 0.1]),
        maxDelay: r.pick([1, 2, 4, 8]),
      },
    };
    this.config = {
      ...DEFAULT_CONFIG,
      window: r.pick([1, 2, 4, 8]),
      maxBatchCommands: r.pick([1, 2, 8]),
      maxCatchUpEntries: r.pick([1, 4, 64]),
      snapshotRetryTicks: 20,
    };
    this.network = new SimNetwork(r, this.rates.network);
    const clients = options.clients ?? r.pick([1, 3, 8]);
    for (let c = 0; c < clients; c++)
      this.clients.push({ id: c, seq: 0, current: null, read: null });
  }

  describeFaults(): string {
    const { network: n, ...rest } = this.rates;
    const every = rest.compaction.map((c) => c.every).join(",");
    const tail = rest.compaction.map((c) => c.tail).join(",");
    return `${this.laggardWeather ? "laggard " : ""}drop=${n.drop} dup=${n.duplicate} delay<=${n.maxDelay} crash=${this.crashes ? rest.crash : 0} partition=${rest.partition} heal=${rest.heal} isolate=${rest.isolate} loss=${rest.isolationLoss} bogusHint=${rest.bogusHint} laggardHint=${rest.laggardHint} snapshotEvery=${every} tail=${tail} window=${this.config.window} batch=${this.config.maxBatchCommands} catchup=${this.config.maxCatchUpEntries}`;
  }

  run(): SimResult {
    for (const id of this.members) this.startReplica(id);
    this.elect();
    let finishedAt: number | null = null;
    const end = this.safetyTicks + this.livenessTicks;
    for (this.now = 1; this.now <= end && this.violations.length === 0; this.now++) {
      if (this.now === this.safetyTicks + 1) this.stabilize();
      if (!this.stable) this.nemesis();
      this.runScheduled();
      for (const message of this.network.due(this.now)) this.deliver(message);
      for (const replica of [...this.replicas.values()]) {
        this.handle(replica, () => replica.node.tick());
      }
      this.driveClients();
      this.driveReads();
      if (this.stable && this.converged()) {
        finishedAt = this.now;
        break;
      }
    }
    const safe = this.violations.length === 0;
    if (safe && finishedAt === null) {
      this.violation(
        "liveness",
        `not converged ${this.livenessTicks} ticks after faults stopped: ${this.progressReport()}`,
      );
    }
    // Once per run, and only over a sound log: an earlier violation says more.
    const history = safe && (this.options.checkHistory ?? true) ? this.checkHistory() : null;
    return {
      seed: this.options.seed,
      replicas: this.options.replicas,
      steps: this.steps,
      ticks: Math.min(this.now, end),
      chosen: this.chosen.size,
      commandsChosen: this.chosenCommands.size,
      readsServed: this.readsServed,
      history,
      crashes: this.crashCount,
      violations: this.violations,
      faults: this.describeFaults(),
      trace: this.trace.lines(),
    };
  }

  // ---- replicas -------------------------------------------------------------

  private startReplica(id: NodeId): void {
    const incarnation = (this.incarnations.get(id) ?? 0) + 1;
    this.incarnations.set(id, incarnation);
    // A restarted replica reads the ballot counter before anything else (DESIGN §4).
    const start: StartState = { fenceRound: this.ballotCounter, incarnation };
    const node = this.createNode({ ...this.config, id, members: this.members }, start);
    const replica: SimReplica = { id, incarnation, node, applied: [], snapshotIndex: 0 };
    this.replicas.set(id, replica);
    this.downSince.delete(id);
    this.trace.note(this.now, `start ${id} incarnation=${incarnation} fence=${start.fenceRound}`);
    this.handle(replica, () => node.setLiveMembers(this.liveMembers()));
    this.hintEpoch.set(replica, this.electionEpoch);
    this.handle(replica, () => node.setLeaderHint(this.elected));
    this.broadcastMembership();
  }

  private crash(id: NodeId): void {
    this.replicas.delete(id);
    this.downSince.set(id, this.now);
    this.crashCount++;
    this.trace.note(this.now, `crash ${id} (memory lost)`);
    // etcd notices when the lease expires, a little later.
    this.schedule(this.rng.between(3, 10), () => {
      this.broadcastMembership();
      if (this.elected === id && !this.replicas.has(id)) this.elect();
    });
  }

  private liveMembers(): NodeId[] {
    return this.members.filter(
      (id) => this.replicas.has(id) || (this.downSince.get(id) ?? -1) > this.now - 3,
    );
  }

  private broadcastMembership(): void {
    for (const replica of this.replicas.values()) {
      const live = this.liveMembers();
      this.schedule(this.rng.between(1, 3), () =>
        this.onReplica(replica, (n) => n.setLiveMembers(live)),
      );
    }
  }

  /** etcd's election: a live replica wins, and every replica hears of it after a delay. */
  private elect(named?: NodeId): void {
    const up = [...this.replicas.keys()];
    this.elected =
      up.length === 0
        ? null
        : named !== undefined && this.replicas.has(named)
          ? named
          : this.rng.chance(this.rates.laggardHint)
            ? this.laggard()
            : this.rng.pick(up);
    this.trace.note(this.now, `etcd elects ${this.elected}`);
    const elected = this.elected;
    const epoch = ++this.electionEpoch;
    for (const replica of this.replicas.values()) {
      // A watch delivers in order: a replica never hears an older election after a newer one.
      this.schedule(this.rng.between(1, 3), () => {
        if ((this.hintEpoch.get(replica) ?? 0) > epoch) return;
        this.hintEpoch.set(replica, epoch);
        this.onReplica(replica, (n) => n.setLeaderHint(elected));
      });
    }
  }

  /**
   * A leader cut off from a quorum resigned its candidacy: etcd names another
   * live candidate (the resigner campaigns again later, like any replica).
   */
  private relinquish(replica: SimReplica): void {
    this.trace.note(this.now, `${replica.id} gives up the leader hint (no quorum heard)`);
    if (this.elected !== replica.id) return;
    const others = [...this.replicas.keys()].filter((id) => id !== replica.id);
    if (others.length === 0) return;
    const next = this.rng.pick(others);
    this.schedule(1, () => {
      if (this.elected === replica.id) this.elect(next);
    });
  }

  /**
   * The live replica that has learned least (etcd's election knows nothing of
   * logs): as leader it runs Phase 1 from far back, against replicas that may
   * have compacted what it lacks.
   */
  private laggard(): NodeId {
    let behind: SimReplica | null = null;
    for (const replica of this.replicas.values()) {
      if (!behind || replica.node.learner.chosenIndex < behind.node.learner.chosenIndex) {
        behind = replica;
      }
    }
    return behind!.id;
  }

  /** Runs `input` on `replica` if that incarnation is still alive. */
  private onReplica(replica: SimReplica, input: (node: PaxosNode) => Effects): void {
    if (this.replicas.get(replica.id) === replica) this.handle(replica, () => input(replica.node));
  }

  private deliver(message: Message): void {
    const replica = this.replicas.get(message.to);
    if (!replica) return;
    this.trace.deliver(this.now, message);
    this.handle(replica, () => replica.node.step(message));
  }

  /** Feeds one input to a replica's core and carries out (and checks) its effects. */
  private handle(replica: SimReplica, input: () => Effects): void {
    const disposedBefore = replica.node.acceptor.disposeBelow;
    let effects: Effects;
    try {
      effects = input();
    } catch (error) {
      if (error instanceof InvariantViolation) {
        this.violation("core-invariant", `node ${replica.id}: ${error.message}`);
        return;
      }
      throw error;
    }
    this.steps++;
    for (const m of effects.messages) {
      this.checkOutgoing(replica, m, disposedBefore);
      this.network.send(m, this.now);
    }
    for (const entry of effects.decided) this.apply(replica, entry.index, entry.value);
    for (const event of effects.events) {
      if (event.type === "leading") {
        this.trace.note(
          this.now,
          `${replica.id} leads ${formatBallot(event.ballot)} from=${event.fromIndex} horizon=${event.horizon}`,
        );
      } else if (event.type === "stepped-down") {
        this.trace.note(
          this.now,
          `${replica.id} steps down from ${formatBallot(event.ballot)}: ${event.reason}`,
        );
      } else if (event.type === "left-recovery") {
        this.trace.note(this.now, `${replica.id} left recovery at ${event.chosenIndex}`);
      }
    }
    if (effects.requestRound) {
      this.schedule(this.rng.between(1, 3), () => {
        const round = ++this.ballotCounter;
        this.onReplica(replica, (n) => n.grantRound(round));
      });
    }
    if (effects.relinquish) this.relinquish(replica);
    if (effects.snapshotNeeded) this.transferSnapshot(replica, effects.snapshotNeeded.from);
    for (const ready of effects.readsReady) this.readAnswered(replica, ready.id, ready.index);
    for (const id of effects.readsFailed) {
      const client = this.clients.find((c) => c.read?.id === id);
      if (client) client.read = null;
    }
    for (const bytes of effects.rejected) {
      const client = this.clients.find((c) => c.current && c.current.bytes === bytes);
      if (client?.current) client.current.sentAt = Number.NEGATIVE_INFINITY; // retry elsewhere now
    }
  }

  private checkOutgoing(replica: SimReplica, m: Message, disposedBefore: LogIndex): void {
    if (m.type === "promise" || m.type === "accepted") {
      // A replica never acts below a ballot it promised, in this life or an earlier one.
      const max = this.maxPromised.get(replica.id);
      if (max && ballotLess(m.ballot, max)) {
        this.violation(
          "broken-promise",
          `node ${replica.id} sent ${m.type} for ${formatBallot(m.ballot)} after promising ${formatBallot(max)}`,
        );
      } else {
        this.maxPromised.set(replica.id, m.ballot);
      }
    }
    const touched =
      m.type === "accepted" || m.type === "accept"
        ? m.index
        : m.type === "prepare"
          ? m.fromIndex
          : null;
    if (touched !== null && touched < disposedBefore) {
      this.violation(
        "disposed-touched",
        `node ${replica.id} sent ${m.type} for disposed index ${touched} (disposeBelow ${disposedBefore})`,
      );
    }
  }

  /** The state machine: applied entries must extend one agreed sequence. */
  private apply(replica: SimReplica, index: LogIndex, value: Value): void {
    if (index !== replica.applied.length + 1) {
      this.violation(
        "apply-order",
        `node ${replica.id} applied ${index} after ${replica.applied.length}`,
      );
      return;
    }
    const agreed = this.chosen.get(index);
    if (agreed === undefined) {
      this.chosen.set(index, value);
      const commands =
        value.type === "batch" ? value.commands.map((c) => Buffer.from(c).toString()) : [];
      for (const key of commands) {
        if (!this.proposed.has(key))
          this.violation("validity", `index ${index} holds ${key}, never proposed`);
        this.chosenCommands.add(key);
      }
      this.history.applied(index, commands, this.now);
    } else if (!valuesEqual(agreed, value)) {
      this.violation(
        "agreement",
        `index ${index}: node ${replica.id} learned ${formatValue(value)}, others ${formatValue(agreed)}`,
      );
      return;
    }
    replica.applied.push(value);
    this.maxApplied = Math.max(this.maxApplied, index);
    const { every, tail } = this.rates.compaction[replica.id - 1]!;
    if (replica.applied.length - replica.snapshotIndex >= every + tail) {
      replica.snapshotIndex = replica.applied.length - tail;
      const through = replica.snapshotIndex;
      this.handle(replica, () => replica.node.compact(through));
    }
  }

  private transferSnapshot(replica: SimReplica, from: NodeId): void {
    this.schedule(this.rng.between(1, 4), () => {
      if (this.replicas.get(replica.id) !== replica) return; // crashed meanwhile
      // As the replica's driver does, a transfer that installs nothing says so.
      const failed = (why: string) => {
        this.trace.note(this.now, `${replica.id}'s snapshot from ${from} not installed: ${why}`);
        this.handle(replica, () => replica.node.snapshotFailed());
      };
      const donor = this.replicas.get(from);
      if (!donor) return failed("donor down");
      if (!this.network.connected(from, replica.id)) return failed("no link");
      // A long transfer over a lossy link fails; the replica asks again later.
      if (this.network.lossy(from, replica.id) && this.rng.chance(this.rates.isolationLoss))
        return failed("lost");
      const index = donor.snapshotIndex;
      if (index <= replica.applied.length) return failed("not newer");
      this.trace.note(this.now, `${replica.id} installs snapshot at ${index} from ${from}`);
      replica.applied = donor.applied.slice(0, index);
      replica.snapshotIndex = index;
      this.handle(replica, () => replica.node.installSnapshot(index));
    });
  }

  // ---- faults ---------------------------------------------------------------

  /** Keep fewer than half of the replicas down or recovering at once (f < n/2). */
  private mayCrash(): boolean {
    const impaired = this.members.filter(
      (id) => !this.replicas.has(id) || this.replicas.get(id)!.node.recovering,
    );
    return impaired.length < this.quorumFaults;
  }

  private nemesis(): void {
    const r = this.rng;
    if (this.crashes && r.chance(this.rates.crash) && this.mayCrash()) {
      const victims = [...this.replicas.keys()];
      const leaning = this.elected !== null && r.chance(0.5) ? this.elected : r.pick(victims);
      this.crash(leaning);
    }
    for (const [id, since] of this.downSince) {
      if (this.now - since > 5 && r.chance(0.05)) this.startReplica(id);
    }
    if (r.chance(this.rates.partition)) {
      const shuffled = r.shuffle([...this.members]);
      const cut = r.between(1, this.members.length - 1);
      this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      this.trace.note(
        this.now,
        `partition ${shuffled.slice(0, cut).join(",")} | ${shuffled.slice(cut).join(",")}`,
      );
    } else if (this.network.partitioned && r.chance(this.rates.heal)) {
      this.network.heal();
      this.trace.note(this.now, "heal");
    }
    if (this.isolated === null && r.chance(this.rates.isolate)) this.isolate();
    if (r.chance(this.rates.bogusHint) && this.replicas.size > 0) {
      // etcd's hint is only a hint: it may name two leaders at once, or none.
      const target = r.pick([...this.replicas.values()]);
      const named = r.chance(0.3) ? null : r.pick(this.members);
      this.trace.note(this.now, `bogus hint to ${target.id}: leader ${named}`);
      this.handle(target, () => target.node.setLeaderHint(named));
    }
    if (r.chance(0.01)) this.elect();
  }

  /**
   * One replica falls behind while staying live (etcd still lists it, so
   * disposal waits for it): its links are cut for a while, then lose most of
   * their messages (and snapshot transfers) for longer, then heal. Meanwhile
   * other replicas may crash and recover from the rest, one at a time, and the
   * election may name the laggard: a lagging leader's Phase 1 then meets
   * replicas that moved on (and may have caught up and compacted meanwhile).
   */
  private isolate(): void {
    const r = this.rng;
    const others = (id: NodeId) => this.members.filter((m) => m !== id);
    const id = r.pick(others(this.elected ?? nodeId(0)));
    this.isolated = id;
    for (const other of others(id)) this.network.degrade(id, other, 1);
    this.trace.note(this.now, `isolate ${id}`);
    const cut = r.between(10, 60);
    const lossy = r.between(30, 150);
    // Failures come together: while it is away, one other replica crashes,
    // or all of them do one at a time (a rolling restart: each once the last
    // one has recovered, the leader last).
    const victims = this.crashes
      ? r.shuffle(others(id)).slice(0, r.pick([0, 1, others(id).length]))
      : [];
    const crashNext = (): void => {
      if (this.stable || this.isolated !== id) return;
      const up = victims.filter((v) => this.replicas.has(v));
      if (up.length === 0) return;
      if (!this.mayCrash()) {
        this.schedule(r.between(1, 10), crashNext);
        return;
      }
      const victim = up.length > 1 ? up.find((v) => v !== this.elected)! : up[0]!;
      victims.splice(victims.indexOf(victim), 1);
      this.crash(victim);
      this.schedule(r.between(5, 30), crashNext);
    };
    this.schedule(r.between(1, cut), crashNext);
    this.schedule(cut, () => {
      if (this.stable) return;
      const loss = this.rates.isolationLoss;
      for (const other of others(id)) this.network.degrade(id, other, loss);
      this.trace.note(this.now, `${id}'s links lose ${loss}`);
      // The election may name it while it lags (it still holds its etcd session).
      if (r.chance(0.5)) this.schedule(r.between(1, lossy), () => this.stable || this.elect(id));
      this.schedule(lossy, () => {
        if (this.stable) return;
        for (const other of others(id)) this.network.restore(id, other);
        this.isolated = null;
        this.trace.note(this.now, `${id}'s links heal`);
      });
    });
  }

  /** Faults stop: the network heals and stops losing, everyone restarts, one leader is named. */
  private stabilize(): void {
    this.stable = true;
    this.network.heal();
    this.network.restoreAll();
    this.isolated = null;
    this.network.faults = {
      drop: 0,
      duplicate: 0,
      maxDelay: Math.min(this.rates.network.maxDelay, 2),
    };
    this.trace.note(this.now, "faults stop");
    for (const id of [...this.downSince.keys()]) this.startReplica(id);
    this.elect();
  }

  // ---- clients --------------------------------------------------------------

  private driveClients(): void {
    for (const client of this.clients) {
      if (client.current && this.chosenCommands.has(client.current.key)) client.current = null;
      if (!client.current) {
        if (this.stable) continue; // once faults stop, only finish what was started
        client.seq++;
        const key = `c${client.id}.${client.seq}`;
        client.current = { key, bytes: Buffer.from(key), sentAt: Number.NEGATIVE_INFINITY };
        this.proposed.add(key);
        this.history.invokeWrite(key, client.id, writeKey(client.id, client.seq), this.now);
      }
      const current = client.current;
      if (this.now - current.sentAt < 15) continue;
      current.sentAt = this.now;
      const up = [...this.replicas.keys()];
      if (up.length === 0) continue;
      const target =
        this.elected !== null && this.replicas.has(this.elected) && this.rng.chance(0.8)
          ? this.elected
          : this.rng.pick(up);
      const replica = this.replicas.get(target)!;
      this.schedule(1, () => this.onReplica(replica, (n) => n.propose([current.bytes])));
    }
  }

  // ---- checks ---------------------------------------------------------------

  /** Clients' linearizable reads, each sent to one replica (the leader, mostly). */
  private driveReads(): void {
    if (!this.reads || this.stable) return;
    for (const client of this.clients) {
      // A read lost with its replica or its messages is given up after a while.
      if (client.read && this.now - client.read.sentAt > 60) client.read = null;
      if (client.read || !this.readRng.chance(0.1)) continue;
      const up = [...this.replicas.keys()];
      if (up.length === 0) continue;
      const target = this.readTarget(up);
      const read = { id: ++this.nextReadId, sentAt: this.now, mustCover: this.maxApplied };
      client.read = read;
      this.history.invokeRead(read.id, client.id, this.now);
      const replica = this.replicas.get(target)!;
      this.schedule(1, () => this.onReplica(replica, (n) => n.readIndex(read.id)));
    }
  }

  /**
   * The leader etcd names, mostly; else, half the time, a replica that still
   * believes it leads though etcd moved on (a client that kept the leader it
   * knew: where a deposed leader answers reads it must not, they land); else
   * any replica. Its draws are the read stream's, and the extra one is made
   * only while such a replica is up: a seed without one runs as it did.
   */
  private readTarget(up: readonly NodeId[]): NodeId {
    const r = this.readRng;
    if (this.elected !== null && this.replicas.has(this.elected) && r.chance(0.8)) {
      return this.elected;
    }
    const formerLeaders = up.filter(
      (id) => id !== this.elected && this.replicas.get(id)!.node.leading,
    );
    if (formerLeaders.length > 0 && r.chance(0.5)) {
      return formerLeaders[r.between(0, formerLeaders.length - 1)]!;
    }
    return up[r.between(0, up.length - 1)]!;
  }

  private readAnswered(replica: SimReplica, id: number, index: LogIndex): void {
    const client = this.clients.find((c) => c.read?.id === id);
    if (!client?.read) return;
    if ((this.options.checkReadIndex ?? true) && index < client.read.mustCover) {
      this.violation(
        "stale-read",
        `node ${replica.id} answered read ${id} at index ${index}, but ${client.read.mustCover} was applied before it was sent`,
      );
    }
    this.trace.note(this.now, `${replica.id} read ${id} at ${index}`);
    this.readsServed++;
    // The answer enters the history once `index` is applied somewhere; the
    // client may read again meanwhile (its two reads then overlap, as they may).
    this.history.readAnswered(id, index, this.now);
    client.read = null;
  }

  /** The clients' whole history, checked for linearizability at once. */
  private checkHistory(): HistoryCheckSummary {
    const summary = this.history.check();
    if (summary.violation) this.violation("not-linearizable", summary.violation);
    return summary;
  }

  private converged(): boolean {
    if (this.clients.some((c) => c.current !== null)) return false;
    const top = this.chosen.size;
    for (const replica of this.replicas.values()) {
      if (replica.applied.length !== top || replica.node.recovering) return false;
    }
    return this.replicas.size === this.members.length;
  }

  private progressReport(): string {
    const nodes = [...this.replicas.values()].map(
      (r) => `${r.node.describe()} applied=${r.applied.length}`,
    );
    const waiting = this.clients.filter((c) => c.current).map((c) => c.current!.key);
    return `chosen=${this.chosen.size} waiting=[${waiting.join(",")}] elected=${this.elected}; ${nodes.join("; ")}`;
  }

  private violation(kind: string, detail: string): void {
    this.violations.push({ tick: this.now, kind, detail });
  }

  private schedule(delay: number, run: () => void): void {
    this.scheduled.push({ at: this.now + delay, run });
  }

  private runScheduled(): void {
    const due = this.scheduled.filter((s) => s.at <= this.now);
    if (due.length === 0) return;
    this.scheduled = this.scheduled.filter((s) => s.at > this.now);
    for (const s of due) s.run();
  }
}

export function runSeed(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

/**
 * Snapshot cadences: one for the whole cluster, or one per replica (each
 * process has its own flags), from every entry with no tail to rarely with a
 * long tail. A replica that compacts eagerly right after catching up from a
 * peer that compacts lazily holds, for a while, chosen entries it never
 * accepted and no longer has in its log.
 */
function drawCompaction(r: Prng, replicas: number): Compaction[] {
  const draw = (): Compaction => ({
    every: r.pick([1, 2, 4, 8, 16, 32]),
    tail: r.pick([0, 0, 2, 8]),
  });
  if (r.chance(0.5)) {
    const one = draw();
    return Array.from({ length: replicas }, () => one);
  }
  return Array.from({ length: replicas }, draw);
}
