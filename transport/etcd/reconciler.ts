/**
 * A single-flight task that is re-run on demand and retried with capped
 * exponential backoff until it succeeds: the building block of every
 * "make etcd look like X again" loop (register, resync, campaign, ...).
 *
 * - `kick()` asks for a run now; kicks during a run coalesce into one re-run.
 * - A failure is logged (the first of a streak at warn unless `quiet()`, the
 *   rest at debug) and
 *   retried after a backoff (the shortest one if kicked during the failed run);
 *   success after failures is logged at info.
 * - Never throws and never leaves a rejected promise behind.
 */

import type { Logger } from "../log";
import { errorFields } from "../log";
import { Backoff, type BackoffOptions } from "./backoff";

export class Reconciler {
  private running = false;
  private pending = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly backoff: Backoff;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly name: string,
    private readonly task: () => Promise<void>,
    private readonly logger: Logger,
    backoff: BackoffOptions = {},
    /** Called on every failure (e.g. to nudge the health monitor). */
    private readonly onFailure: (err: unknown) => void = () => undefined,
    /** When true, failures are logged at debug only (e.g. etcd is known to be down). */
    private readonly quiet: () => boolean = () => false,
  ) {
    this.backoff = new Backoff(backoff);
  }

  /** Requests a run as soon as possible (cancels a pending backoff). */
  kick(): void {
    if (this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pending = true;
    if (!this.running) void this.loop();
  }

  /** True while a run is scheduled, running, or waiting to retry. */
  get busy(): boolean {
    return this.running || this.pending || this.timer !== undefined;
  }

  /** Resolves when no run is in progress (retries may still be scheduled). */
  whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.pending = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.pending && !this.stopped) {
        this.pending = false;
        try {
          await this.task();
          if (this.failures > 0) {
            this.logger.info(`${this.name}: succeeded again`, { failedAttempts: this.failures });
          }
          this.failures = 0;
          this.backoff.reset();
        } catch (err) {
          if (this.stopped) break;
          this.failures++;
          // kicked while this run was failing: the kicker saw something new
          // (e.g. etcd is back), so retry after the shortest delay
          const delayMs = this.pending ? this.backoff.initialMs : this.backoff.next();
          this.pending = false;
          const fields = { attempt: this.failures, retryInMs: delayMs, err: errorFields(err) };
          if (this.failures === 1 && !this.quiet()) {
            this.logger.warn(`${this.name}: failed, retrying`, fields);
          } else this.logger.debug(`${this.name}: failed again`, fields);
          try {
            this.onFailure(err);
          } catch {
            // a failing observer must not break the loop
          }
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.kick();
          }, delayMs);
          break;
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
