import type { ClusterUnderTest } from "./cluster-under-test";
import type { Rng } from "./rng";

/**
 * The nemesis of a `paxlog check` run: every few seconds (seeded choices) one
 * fault, held for a while, then undone. It follows the operating rule: before
 * each fault every replica must run, serve and have left recovery (checked on
 * `/v1/cluster`), so at most a minority is ever down or recovering.
 *
 * Faults:
 * - kill-leader / kill-minority: kill -9 (the leader; or a random minority),
 *   restarted empty after the hold;
 * - pause: SIGSTOP a replica (the leader half the time), SIGCONT after the hold;
 * - partition-minority: cut every link between a random minority and the rest;
 * - partition-leader: cut the leader away from every other replica (it keeps its
 *   etcd lease; it must give up the leader hint so the majority elects another);
 * - isolate-compact: cut one follower off until the leader has compacted its log
 *   past what that follower had applied (bounded), so it must catch up by snapshot.
 *
 * Kinds are dealt from a seeded shuffle of the requested ones, each once per
 * round of the deck, so a run of at least that many faults has every kind.
 */

export type FaultKind =
  | "kill-leader"
  | "kill-minority"
  | "pause"
  | "partition-minority"
  | "partition-leader"
  | "isolate-compact";

export const ALL_FAULTS: readonly FaultKind[] = [
  "kill-leader",
  "kill-minority",
  "pause",
  "partition-minority",
  "partition-leader",
  "isolate-compact",
];

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly targets: readonly number[];
  /** Run-relative milliseconds (the history's clock). */
  readonly start: number;
  end: number | null;
  note?: string;
}

export interface NemesisSettings {
  readonly faults: readonly FaultKind[];
  /** Mean pause between faults (ms); each gap is drawn in [0.5, 1.5] of it. */
  readonly intervalMs: number;
  /** How long a fault is held (ms), drawn in [0.5, 1.5] of it. */
  readonly holdMs: number;
  /** Before a fault: how long to wait for every replica to serve and leave recovery. */
  readonly readyTimeoutMs: number;
}

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  readonly skipped: { at: number; why: string }[] = [];
  /** Faults that could not be made or undone (a docker command failed, say). */
  readonly errors: string[] = [];
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private deck: FaultKind[] = [];

  constructor(
    private readonly cluster: ClusterUnderTest,
    private readonly rng: Rng,
    private readonly settings: NemesisSettings,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /** Sleeps up to `ms`, cut short by stop(). */
  private nap(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private jitter(ms: number): number {
    return Math.round(ms * (0.5 + this.rng.next()));
  }

  private async run(): Promise<void> {
    await this.nap(this.jitter(this.settings.intervalMs));
    while (!this.stopping) {
      const ready = await this.waitReady();
      if (this.stopping) break;
      if (!ready) {
        this.skipped.push({ at: this.now(), why: "cluster not ready" });
        this.log("nemesis: cluster not all serving/recovered; no fault this round");
      } else {
        const kind = this.nextKind();
        try {
          await this.inject(kind);
        } catch (error) {
          // Recorded for the report (the run cannot be called clean), and the
          // loop goes on: the next round waits until every replica serves again.
          const message = `${kind}: ${(error as Error).message}`;
          this.errors.push(message);
          const last = this.faults.at(-1);
          if (last && last.end === null) {
            last.end = this.now();
            last.note = `${last.note ?? ""} FAILED: ${(error as Error).message}`.trim();
          }
          this.log(`nemesis: ${message}`);
        }
      }
      await this.nap(this.jitter(this.settings.intervalMs));
    }
  }

  private nextKind(): FaultKind {
    if (this.deck.length === 0) {
      this.deck = this.rng.sample(this.settings.faults, this.settings.faults.length);
    }
    return this.deck.pop()!;
  }

  private async waitReady(): Promise<boolean> {
    const deadline = Date.now() + this.settings.readyTimeoutMs;
    while (!this.stopping && Date.now() < deadline) {
      if (await this.cluster.allServing()) return true;
      await this.nap(200);
    }
    return false;
  }

  private begin(kind: FaultKind, targets: number[], note?: string): FaultRecord {
    const f: FaultRecord = { kind, targets, start: this.now(), end: null };
    if (note) f.note = note;
    this.faults.push(f);
    this.log(`nemesis t=${fmt(f.start)} ${kind} [${targets.join(",")}]${note ? ` ${note}` : ""}`);
    return f;
  }

  private end(f: FaultRecord, what: string): void {
    f.end = this.now();
    this.log(`nemesis t=${fmt(f.end)} ${what} [${f.targets.join(",")}]`);
  }

  private minoritySize(): number {
    return Math.floor((this.cluster.replicas.length - 1) / 2);
  }

  private ids(): number[] {
    return this.cluster.replicas.map((r) => r.id);
  }

  private async inject(kind: FaultKind): Promise<void> {
    const c = this.cluster;
    const hold = this.jitter(this.settings.holdMs);
    const f = this.minoritySize();
    if (f < 1 && kind !== "pause") {
      this.skipped.push({ at: this.now(), why: `${kind} needs n >= 3` });
      return;
    }
    switch (kind) {
      case "kill-leader":
      case "kill-minority": {
        const leader = await c.leader();
        const targets =
          kind === "kill-leader" && leader !== null
            ? [leader]
            : this.rng.sample(this.ids(), this.rng.int(1, f));
        const rec = this.begin(
          kind,
          targets,
          leader === null ? "(no leader seen)" : `leader ${leader}`,
        );
        await Promise.all(targets.map((id) => c.kill(id)));
        await this.nap(hold);
        await Promise.all(targets.map((id) => c.restart(id)));
        this.end(rec, "restarted");
        return;
      }
      case "pause": {
        const leader = await c.leader();
        const target =
          leader !== null && this.rng.next() < 0.5 ? leader : this.rng.pick(this.ids());
        const rec = this.begin(kind, [target], target === leader ? "(the leader)" : undefined);
        await c.pause(target);
        await this.nap(hold);
        await c.resume(target);
        this.end(rec, "resumed");
        return;
      }
      case "partition-minority": {
        const side = this.rng.sample(this.ids(), this.rng.int(1, f));
        const rec = this.begin(kind, side);
        await c.partition(side);
        await this.nap(hold);
        await c.healPartitions();
        this.end(rec, "healed");
        return;
      }
      case "partition-leader": {
        const leader = await c.leader();
        if (leader === null) {
          this.skipped.push({ at: this.now(), why: "partition-leader: no leader seen" });
          return;
        }
        const rec = this.begin(kind, [leader]);
        await c.partition([leader]);
        await this.nap(Math.max(hold, 2_500));
        await c.healPartitions();
        this.end(rec, "healed");
        return;
      }
      case "isolate-compact": {
        const leader = await c.leader();
        const followers = this.ids().filter((id) => id !== leader);
        const target = this.rng.pick(followers);
        const before = (await c.view(target))?.appliedIndex ?? 0;
        const rec = this.begin(kind, [target], `applied ${before}`);
        await c.partition([target]);
        const deadline = Date.now() + Math.max(4 * this.settings.holdMs, 10_000);
        let compacted = false;
        while (!this.stopping && Date.now() < deadline) {
          const l = await c.leader();
          const v = l !== null && l !== target ? await c.view(l) : null;
          if (v && v.logStartsAfter > before) {
            compacted = true;
            break;
          }
          await this.nap(200);
        }
        await this.nap(Math.min(hold, 1_000));
        rec.note = `${rec.note}; others compacted past it: ${compacted ? "yes" : "no (bounded wait)"}`;
        await c.healPartitions();
        this.end(rec, "healed");
        return;
      }
    }
  }

  /** Undoes everything: links healed, paused replicas resumed, dead ones restarted. */
  async healEverything(): Promise<void> {
    await this.cluster.restoreAll();
    for (const f of this.faults) if (f.end === null) f.end = this.now();
  }
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
