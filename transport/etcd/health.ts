/**
 * etcd reachability: probes etcd with a linearizable read (so a frozen or
 * quorum-less etcd counts as unreachable), every `intervalMs` while it
 * answers, with capped exponential backoff while it does not. Reports each
 * transition once (log + callback); never throws.
 */

import { errorFields, type Logger } from "../log";
import { Backoff, type BackoffOptions, Sleeper } from "./backoff";

export interface EtcdHealth {
  reachable: boolean;
}

export interface HealthMonitorOptions {
  /** Probe period while etcd answers (default 500 ms). */
  intervalMs?: number;
  /** Probe backoff while it does not (default 100 ms doubling to 2 s). */
  backoff?: BackoffOptions;
}

export class HealthMonitor {
  private state: boolean | undefined;
  private stopped = false;
  private started = false;
  private downSince = 0;
  private readonly sleeper = new Sleeper();
  private readonly backoff: Backoff;
  private readonly intervalMs: number;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly logger: Logger,
    private readonly onChange: (health: EtcdHealth, previous: boolean | undefined) => void,
    options: HealthMonitorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 500;
    this.backoff = new Backoff(options.backoff ?? { initialMs: 100, maxMs: 2_000 });
  }

  /** Last known reachability (undefined before the first probe finished). */
  get reachable(): boolean | undefined {
    return this.state;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.sleeper.wake();
  }

  /** Someone saw an etcd call fail: probe now instead of at the next period. */
  suspect(): void {
    if (this.state === true) this.sleeper.wake();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let error: unknown;
      let ok = false;
      try {
        await this.probe();
        ok = true;
      } catch (err) {
        error = err;
      }
      if (this.stopped) break;
      if (ok) {
        this.backoff.reset();
        if (this.state !== true) this.transition(true, undefined);
        await this.sleeper.sleep(this.intervalMs);
      } else {
        if (this.state !== false) this.transition(false, error);
        else this.logger.debug("etcd still unreachable", { err: errorFields(error) });
        await this.sleeper.sleep(this.backoff.next());
      }
    }
  }

  private transition(reachable: boolean, error: unknown): void {
    const previous = this.state;
    this.state = reachable;
    if (reachable) {
      if (previous === false) {
        this.logger.info("etcd reachable again", { downForMs: Date.now() - this.downSince });
      } else {
        this.logger.debug("etcd reachable");
      }
    } else {
      this.downSince = Date.now();
      this.logger.warn("etcd unreachable; retrying with backoff", { err: errorFields(error) });
    }
    try {
      this.onChange({ reachable }, previous);
    } catch (err) {
      this.logger.error("etcd health listener threw", { err: errorFields(err) });
    }
  }
}
