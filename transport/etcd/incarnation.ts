/**
 * Incarnations: a per-node counter at `/paxlog/<cluster>/incarnations/<id>`,
 * incremented once at every process start, so a restarted replica (which lost
 * its memory) is recognisably new to its peers (DESIGN §4.3).
 */

import type { Namespace } from "etcd3";
import { CasCounter } from "./cas-counter";

export function nextIncarnation(ns: Namespace, key: string): Promise<number> {
  return new CasCounter(ns, key).increment();
}
