/**
 * Leader hint (Ω): etcd3's Election recipe under `/paxlog/<cluster>/leader/`.
 * Every replica campaigns with its node id; the leader is the candidate whose
 * key has the lowest create revision. The hint is only a hint: safety never
 * depends on it (DESIGN §2).
 *
 * etcd3 1.1.2 quirk (STACK-NOTES): `ElectionObserver.leader()` can name the
 * wrong leader when candidates campaign back to back before any leader
 * exists. We do not use the observer: a plain watch on the election prefix
 * triggers a fresh `election.leader()` read (lowest create revision) on every
 * change, on every (re)connect of the watch, and after etcd outages; reads are
 * serialised, so the emitted value never goes back in time.
 *
 * If the campaign fails (its lease lost or revoked), we campaign again.
 */

import { type Campaign, Election, type Lease, type Namespace, type Watcher } from "etcd3";
import { errorFields, type Logger } from "../log";
import type { BackoffOptions } from "./backoff";
import { wrapEtcdError } from "./errors";
import { Reconciler } from "./reconciler";

export interface LeaderHintOptions {
  /** Namespace whose prefix is the election prefix (`/paxlog/<cluster>/leader/`). */
  electionNs: Namespace;
  nodeId: number;
  leaseTtlSeconds: number;
  /** Whether this node campaigns (false: observe only). */
  campaign: boolean;
  logger: Logger;
  retry: BackoffOptions;
  onLeader: (leader: number | null) => void;
  onEtcdError: (err: unknown) => void;
  /** True while etcd is known to be unreachable (retry failures are then logged at debug). */
  quiet: () => boolean;
}

/**
 * etcd3's Election always nests its keys under `election/<name>/` of the
 * namespace it is given; this hands it a parent whose `namespace()` is our
 * election prefix itself, so the keys are exactly `<prefix><leaseId>`.
 */
function electionAt(ns: Namespace, ttlSeconds: number): Election {
  const parent = { namespace: () => ns } as unknown as Namespace;
  return new Election(parent, "leader", ttlSeconds);
}

function parseLeader(value: string | undefined, logger: Logger): number | null {
  if (value === undefined) return null;
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  logger.warn("leader key holds no node id; treating as no leader", { value });
  return null;
}

export class LeaderHint {
  private readonly o: LeaderHintOptions;
  private readonly log: Logger;
  private readonly election: Election;
  private readonly campaigner: Reconciler;
  private readonly refresher: Reconciler;
  private campaign: Campaign | undefined;
  /** True once the current campaign's lease is granted (its key follows). */
  private campaigning = false;
  /** Set while stepped back: campaigning resumes when it fires. */
  private stepBackTimer: NodeJS.Timeout | undefined;
  private watcher: Watcher | undefined;
  private current: number | null | undefined;
  private stopped = false;
  private readyWaiters: Array<() => void> = [];

  constructor(options: LeaderHintOptions) {
    this.o = options;
    this.log = options.logger.child({ component: "leader-hint" });
    this.election = electionAt(options.electionNs, options.leaseTtlSeconds);
    this.campaigner = new Reconciler(
      "leader campaign",
      () => this.campaignOnce(),
      this.log,
      options.retry,
      options.onEtcdError,
      options.quiet,
    );
    this.refresher = new Reconciler(
      "leader read",
      () => this.refreshOnce(),
      this.log,
      options.retry,
      options.onEtcdError,
      options.quiet,
    );
  }

  /** Last leader read from etcd (null: none; undefined: not read yet). */
  get leader(): number | null | undefined {
    return this.current;
  }

  /**
   * True once the leader was read; when campaigning, once our campaign is in
   * and a leader (maybe us) is known: with our key in etcd there always is one.
   */
  get ready(): boolean {
    if (this.current === undefined) return false;
    return !this.o.campaign || (this.campaigning && this.current !== null);
  }

  whenReady(): Promise<void> {
    if (this.ready || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  start(): void {
    this.watch();
    if (this.o.campaign) this.campaigner.kick();
    this.refresher.kick();
  }

  /** After an etcd outage: read the leader again, campaign again if needed. */
  recover(): void {
    this.refresher.kick();
    if (this.o.campaign && !this.campaigning) this.campaigner.kick();
  }

  /** Clean shutdown: resign (revokes the campaign lease: a new leader is elected at once). */
  async resign(): Promise<void> {
    const campaign = this.halt();
    if (!campaign) return;
    try {
      await campaign.resign();
    } catch (err) {
      this.log.warn("could not resign; the campaign lease will expire", {
        err: errorFields(wrapEtcdError("resign", "leader/", err)),
      });
    }
  }

  /**
   * Gives up the leadership for now: resigns the campaign, so etcd names the
   * next candidate at once, and campaigns again after `delayMs` (at the back
   * of the queue). For a leader that cannot reach a quorum of its peers.
   */
  async stepBack(delayMs: number): Promise<void> {
    if (this.stopped || !this.o.campaign || this.stepBackTimer) return;
    const campaign = this.campaign;
    this.campaign = undefined;
    this.campaigning = false;
    this.stepBackTimer = setTimeout(() => {
      this.stepBackTimer = undefined;
      if (!this.stopped) this.campaigner.kick();
    }, delayMs);
    this.stepBackTimer.unref();
    this.log.info("stepping back from the election", { campaignAgainInMs: delayMs });
    try {
      await campaign?.resign();
    } catch (err) {
      this.log.warn("could not resign; the campaign lease will expire", {
        err: errorFields(wrapEtcdError("resign", "leader/", err)),
      });
    }
  }

  /** Crash simulation: stop without resigning (the campaign lease expires by TTL). */
  crash(): void {
    const campaign = this.halt();
    // etcd3 keeps a campaign's lease alive on its open keep-alive stream even
    // after client.close(), and Campaign has no "stop without revoking": reach
    // its (private) lease and stop the keep-alives.
    (campaign as unknown as { lease?: Lease } | undefined)?.lease?.release();
  }

  /** The namespace of the election (to sweep its watchers after the client is closed). */
  get namespace(): Namespace {
    return this.o.electionNs;
  }

  private halt(): Campaign | undefined {
    if (this.stopped) return undefined;
    this.stopped = true;
    if (this.stepBackTimer) clearTimeout(this.stepBackTimer);
    this.campaigner.stop();
    this.refresher.stop();
    const w = this.watcher;
    this.watcher = undefined;
    w?.cancel().catch(() => undefined);
    const campaign = this.campaign;
    this.campaign = undefined;
    this.campaigning = false;
    this.flushReady();
    return campaign;
  }

  private flushReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private watch(): void {
    const w = this.o.electionNs.watch().prefix("").watcher();
    this.watcher = w;
    w.on("data", () => {
      if (this.watcher === w) this.refresher.kick();
    });
    // first connect and every reconnect: changes may have been missed meanwhile
    w.on("connected", () => {
      if (this.watcher === w) this.refresher.kick();
    });
    w.on("disconnected", (err) => {
      if (this.watcher !== w) return;
      this.log.debug("leader watch disconnected", {
        err: errorFields(wrapEtcdError("watch", "leader/", err)),
      });
      this.o.onEtcdError(err);
    });
    w.on("error", (err) => {
      if (this.watcher !== w || this.stopped) return;
      this.log.warn("leader watch failed; watching again", {
        err: errorFields(wrapEtcdError("watch", "leader/", err)),
      });
      this.watch();
      this.refresher.kick();
    });
  }

  private async refreshOnce(): Promise<void> {
    let value: string | undefined;
    try {
      value = await this.election.leader();
    } catch (err) {
      throw wrapEtcdError("read leader", "leader/", err);
    }
    if (this.stopped) return;
    const leader = parseLeader(value, this.log);
    if (leader === this.current) return;
    const previous = this.current;
    this.current = leader;
    this.log.info("leader hint changed", { leader, previous: previous ?? null });
    if (this.ready) this.flushReady();
    this.o.onLeader(leader);
  }

  private async campaignOnce(): Promise<void> {
    if (this.stopped || this.stepBackTimer || (this.campaign && this.campaigning)) return;
    const old = this.campaign;
    if (old) {
      // best effort: revoke the lease the failed campaign may still hold
      old.resign().catch(() => undefined);
    }
    const campaign = this.election.campaign(String(this.o.nodeId));
    this.campaign = campaign;
    this.campaigning = false;
    campaign.on("error", (err) => {
      if (this.stopped || this.campaign !== campaign) return;
      if (!this.campaigning) return; // failed while starting: campaignOnce reports and retries
      this.campaigning = false;
      this.log.warn("campaign lost (lease lost or revoked); campaigning again", {
        err: errorFields(wrapEtcdError("campaign", "leader/", err)),
      });
      this.campaigner.kick();
      this.refresher.kick();
    });
    campaign.on("elected", () => {
      if (this.campaign === campaign && !this.stopped) {
        this.log.info("elected by etcd (leader hint)", { nodeId: this.o.nodeId });
      }
    });
    try {
      // resolves once the campaign lease is granted; etcd3 writes the key right
      // after, and a failure from here on arrives as an 'error' event
      const key = await campaign.getCampaignKey();
      if (this.stopped || this.campaign !== campaign) return;
      this.campaigning = true;
      this.log.info("campaigning", { key });
      if (this.ready) this.flushReady();
    } catch (err) {
      if (this.campaign === campaign) {
        this.campaign = undefined;
        campaign.resign().catch(() => undefined);
      }
      throw wrapEtcdError("campaign", "leader/", err);
    }
  }
}
