/**
 * Ballot fencing: the cluster-wide round counter at `/paxlog/<cluster>/ballot`.
 * A proposer takes every new round from here, so every ballot ever used is
 * ordered in real time with every etcd read (DESIGN §2, §4): a restarted
 * replica that reads R refuses every round <= R.
 */

import type { Namespace } from "etcd3";
import { CasCounter, type CasCounterOptions } from "./cas-counter";

export class BallotCounter {
  private readonly counter: CasCounter;

  constructor(ns: Namespace, key: string, options: CasCounterOptions = {}) {
    this.counter = new CasCounter(ns, key, options);
  }

  /** A fresh round, unique cluster-wide and greater than any returned before (first is 1). */
  allocateRound(): Promise<number> {
    return this.counter.increment();
  }

  /** The highest round allocated so far (0 if none). */
  readRound(): Promise<number> {
    return this.counter.read();
  }
}
