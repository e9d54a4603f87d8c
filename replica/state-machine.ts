import type { DecidedEntry, LogIndex } from "../consensus";
import { type Command, type DomainConfig, decodeCommand, logIndex } from "../domain";
import { applyBatch, createProjection, type KvProjection } from "../projections/kv-projection";
import type { Logger } from "../transport/log";
import type { Waiters } from "./waiters";

/** A projection frozen at a log index: immutable, so holding it is the snapshot. */
export interface Snapshot {
  readonly index: LogIndex;
  readonly view: KvProjection;
}

interface IndexWaiter {
  readonly index: LogIndex;
  readonly resolve: (reached: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Applies decided log entries, in order, to the KV projection and answers the
 * clients waiting for them. Every replica runs the same code on the same
 * entries, so every replica reaches the same state.
 */
export class StateMachine {
  private view: KvProjection;
  private snapshot: Snapshot;
  private indexWaiters: IndexWaiter[] = [];

  constructor(
    config: DomainConfig,
    private readonly waiters: Waiters,
    private readonly log: Logger,
  ) {
    this.view = createProjection(config);
    this.snapshot = { index: 0, view: this.view };
  }

  get appliedIndex(): LogIndex {
    return this.view.appliedIndex;
  }

  get current(): KvProjection {
    return this.view;
  }

  get latestSnapshot(): Snapshot {
    return this.snapshot;
  }

  apply(entry: DecidedEntry): void {
    const commands = decodeEntry(entry, this.log);
    const { projection, results } = applyBatch(this.view, logIndex(entry.index), commands);
    this.view = projection;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      this.waiters.applied(command.clientId, command.requestId, results[i]!, projection);
    }
    this.releaseIndexWaiters();
  }

  /** Takes a snapshot of the state as applied now (O(1): the projection is immutable). */
  takeSnapshot(): Snapshot {
    this.snapshot = { index: this.view.appliedIndex, view: this.view };
    return this.snapshot;
  }

  /** Replaces the state with a snapshot fetched from a peer. */
  install(view: KvProjection): void {
    if (view.appliedIndex <= this.view.appliedIndex) return;
    this.view = view;
    this.snapshot = { index: view.appliedIndex, view };
    this.releaseIndexWaiters();
  }

  /** Resolves true once `index` is applied here, false after `timeoutMs`. */
  waitForIndex(index: LogIndex, timeoutMs: number): Promise<boolean> {
    if (this.view.appliedIndex >= index) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: IndexWaiter = {
        index,
        resolve,
        timer: setTimeout(() => {
          this.indexWaiters = this.indexWaiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.indexWaiters.push(waiter);
    });
  }

  private releaseIndexWaiters(): void {
    if (this.indexWaiters.length === 0) return;
    const applied = this.view.appliedIndex;
    const still: IndexWaiter[] = [];
    for (const w of this.indexWaiters) {
      if (w.index <= applied) {
        clearTimeout(w.timer);
        w.resolve(true);
      } else {
        still.push(w);
      }
    }
    this.indexWaiters = still;
  }
}

/**
 * The commands of a decided entry. Commands are validated before they are
 * proposed; bytes that do not decode are skipped, identically on every
 * replica (and in replays), and reported.
 */
export function decodeEntry(entry: DecidedEntry, log: Logger): Command[] {
  const commands: Command[] = [];
  if (entry.value.type !== "batch") return commands;
  for (const bytes of entry.value.commands) {
    const decoded = decodeCommand(bytes);
    if (decoded.ok) commands.push(decoded.value);
    else
      log.error("undecodable command in the log", {
        index: entry.index,
        error: decoded.error.message,
      });
  }
  return commands;
}
