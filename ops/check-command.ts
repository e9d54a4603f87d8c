import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { HistoryParseError, parseHistory } from "./check/history-jsonl";
import {
  COMPOSE_REPLICAS,
  composeFaultProblem,
  PARTITION_MODES,
  type PartitionMode,
} from "./check/run/compose-cluster";
import { ALL_FAULTS, type FaultKind } from "./check/run/nemesis";
import { analyzeHistory, CHECK_DEFAULTS, defaultRunDir, runCheck } from "./check/run/runner";
import { positiveInt, UsageError } from "./usage-error";

export const CHECK_HELP = `paxlog check — a fault-injection run against a local process cluster
(or, with --compose, against the compose cluster)

Starts its own etcd and N replicas ("paxlog serve") on loopback, with a TCP
proxy on every directed replica→replica gRPC link (replica i's --peers entry
for j is the proxy i→j), runs C closed-loop clients and a nemesis, then heals
everything, waits for convergence and checks the history.

With --compose it tests the compose cluster instead (docker-compose.yml:
etcd and paxlog-1..5 in containers; build the images first with npm run
docker:build): a fresh one, brought up by docker-compose up -d with the
replica settings below as PAXLOG_* variables, and taken down by
docker-compose down -v at the end (--compose-keep leaves it up). Clients use
the published ports 127.0.0.1:8081..8085. The faults are the same kinds, made
by the ops/docker scripts: docker kill / docker start (back empty), docker
pause / unpause, and partitions by iptables rules in the cut replicas'
network namespaces (partition.sh --keep-etcd: etcd and the REST ports stay
reachable, as with the proxies) or, with --compose-partition network, by
docker network disconnect (etcd and the REST port go dark too; partition-
leader cannot be made that way and is refused). Container logs are saved in
the run directory.

Clients: each has its own X-Paxlog-Client-Id and increasing
X-Paxlog-Request-Id; they spread over all replicas and work on a few keys
(k0..k{keys-1}; txns touch the last two): linearizable gets, sequential gets
(X-Paxlog-Min-Index = the client's last seen index), puts and cas with unique
values, incr, append, delete, two-key txns. A 503, 5xx, timeout or lost
connection is retried with the same request id on the next replica (exactly
once makes that safe) until the per-op deadline, then recorded as unknown (it
may or may not have taken effect); a definite 4xx is dropped as not applied.

Nemesis (seeded by --seed): every ~interval, once every replica serves and has
left recovery (/v1/cluster "recovering"): one of
  kill-leader         kill -9 the leader, restart it empty after the hold
  kill-minority       kill -9 a random minority, restart them empty
  pause               SIGSTOP a replica (the leader half the time), then SIGCONT
  partition-minority  cut every link between a random minority and the rest
  partition-leader    cut the leader off from every other replica
  isolate-compact     cut a follower off until the others compact past it
Each fault is logged with its times (faults.jsonl).

At the end: a final linearizable read of every key, digests compared once
every replica applied the same index, and the report: ops by outcome, faults,
the linearizability verdict (per-key partitions; sequential reads checked for
per-client monotonicity and read-your-writes instead), acknowledged writes
lost, digests, the slowest recovery (from a fault's start or end to the first
write sent after it that was acknowledged). The run directory holds
history.jsonl, report.txt, report.json, faults.jsonl, replica and etcd logs,
and on a violation violation.txt and violation.svg (the failing partition).

Usage: paxlog check [options]
       paxlog check --history FILE [--out DIR]   re-check a saved history

  --time D              workload duration: 60s, 5m, 300 (seconds) (default 60s)
  --ops N               stop after N operations (default: no bound)
  --nodes N             replicas, 1..9 (default 5)
  --clients N           concurrent clients (default 2 × nodes)
  --keys N              keys (default 5)
  --seed N              seeds the nemesis and the clients (default: from the clock)
  --faults LIST         comma-separated fault kinds above, or "none" (default: all)
  --interval D          mean time between faults (default 4s)
  --hold D              mean time a fault is held (default 2.5s)
  --out DIR             run directory (default bench-results/check-<timestamp>)
  --snapshot-every N    replica snapshot interval (default 50)
  --retain-tail N       entries kept behind a snapshot (default 10)
  --lease-ttl S         etcd lease TTL of the replicas (default 1)
  --request-timeout D   the replicas' request timeout (default 2s)
  --op-timeout D        per-op deadline across retries (default 10s)
  --think D             pause between two ops of a client (default 0)
  --check-budget D      linearizability search time per partition (default 60s)
  --mislabel-sequential planted harness bug: client c1's sequential reads are
                        checked as linearizable (a stale one must be caught)
  --replica-node-args=A Node.js flags for every replica, space-separated (note
                        the "="), e.g. a planted-bug build from test/mutations/:
                        --replica-node-args="--require dist/test/mutations/no-recovery-fence.js"
  --compose             test the compose cluster: ${COMPOSE_REPLICAS} replicas (--nodes, if given,
                        must be ${COMPOSE_REPLICAS}); no other compose containers may exist
  --compose-keep        leave the compose cluster this run started up at the end
  --compose-running     test the compose cluster that runs already (implies
                        --compose): its own settings hold (so --lease-ttl,
                        --snapshot-every, --retain-tail, --request-timeout are
                        refused), and it is left running, every fault undone
  --compose-partition M iptables (default) or network (implies --compose)
  -h, --help            this text

Exit: 0 linearizable, no session anomaly, no lost write, equal digests;
1 a violation of any of those; 2 inconclusive (search budget ran out, or the
cluster did not converge so digests could not be compared).`;

/** "60s", "1.5m", "250ms", "300" (seconds) → milliseconds. */
export function parseDuration(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 60s, 5m, 500ms; got "${raw}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(unit === "ms" ? n : unit === "m" ? n * 60_000 : n * 1000);
}

export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      history: { type: "string" },
      time: { type: "string" },
      ops: { type: "string" },
      nodes: { type: "string" },
      clients: { type: "string" },
      keys: { type: "string" },
      seed: { type: "string" },
      faults: { type: "string" },
      interval: { type: "string" },
      hold: { type: "string" },
      out: { type: "string" },
      "snapshot-every": { type: "string" },
      "retain-tail": { type: "string" },
      "lease-ttl": { type: "string" },
      "request-timeout": { type: "string" },
      "op-timeout": { type: "string" },
      think: { type: "string" },
      "check-budget": { type: "string" },
      "mislabel-sequential": { type: "boolean" },
      "replica-node-args": { type: "string" },
      compose: { type: "boolean" },
      "compose-keep": { type: "boolean" },
      "compose-running": { type: "boolean" },
      "compose-partition": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(CHECK_HELP);
    return 0;
  }
  const budgetMs =
    values["check-budget"] === undefined
      ? CHECK_DEFAULTS.checkBudgetMs
      : parseDuration(values["check-budget"], "--check-budget");
  if (values.history !== undefined) return recheck(values.history, values.out ?? null, budgetMs);

  const nodes =
    values.nodes === undefined ? CHECK_DEFAULTS.nodes : positiveInt(values.nodes, "--nodes");
  if (nodes > 9) throw new UsageError("--nodes must be 1..9");
  const compose = composeTarget(values, nodes);
  const requestedFaults: FaultKind[] =
    values.faults === undefined
      ? [...ALL_FAULTS]
      : values.faults === "none"
        ? []
        : values.faults.split(",").map((f) => {
            const k = f.trim() as FaultKind;
            if (!ALL_FAULTS.includes(k)) throw new UsageError(`--faults: unknown fault "${f}"`);
            return k;
          });
  const faults = compose
    ? composeFaults(requestedFaults, values.faults !== undefined, compose.partition)
    : requestedFaults;
  const int = (raw: string | undefined, flag: string, fallback: number) =>
    raw === undefined ? fallback : positiveInt(raw, flag);
  const dur = (raw: string | undefined, flag: string, fallback: number) =>
    raw === undefined ? fallback : parseDuration(raw, flag);
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new UsageError("--seed must be an integer >= 0");
  const retainTail =
    values["retain-tail"] === undefined ? CHECK_DEFAULTS.retainTail : Number(values["retain-tail"]);
  if (!Number.isSafeInteger(retainTail) || retainTail < 0)
    throw new UsageError("--retain-tail must be an integer >= 0");
  const dir = values.out ?? defaultRunDir();
  // Ctrl-C: exit, and the exit hook kills etcd and every replica this run started.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`[check] ${signal}: stopping the cluster; history so far in ${dir}`);
      process.exit(130);
    });
  }
  const report = await runCheck({
    nodes,
    clients: int(values.clients, "--clients", 2 * nodes),
    timeMs: dur(values.time, "--time", CHECK_DEFAULTS.timeMs),
    maxOps: values.ops === undefined ? Number.POSITIVE_INFINITY : positiveInt(values.ops, "--ops"),
    seed,
    keys: int(values.keys, "--keys", CHECK_DEFAULTS.keys),
    faults,
    intervalMs: dur(values.interval, "--interval", CHECK_DEFAULTS.intervalMs),
    holdMs: dur(values.hold, "--hold", CHECK_DEFAULTS.holdMs),
    dir,
    snapshotEvery: int(values["snapshot-every"], "--snapshot-every", CHECK_DEFAULTS.snapshotEvery),
    retainTail,
    leaseTtlSeconds: int(values["lease-ttl"], "--lease-ttl", CHECK_DEFAULTS.leaseTtlSeconds),
    requestTimeoutMs: dur(
      values["request-timeout"],
      "--request-timeout",
      CHECK_DEFAULTS.requestTimeoutMs,
    ),
    attemptTimeoutMs:
      dur(values["request-timeout"], "--request-timeout", CHECK_DEFAULTS.requestTimeoutMs) + 1_000,
    opDeadlineMs: dur(values["op-timeout"], "--op-timeout", CHECK_DEFAULTS.opDeadlineMs),
    thinkMs: values.think === undefined ? 0 : parseDuration(values.think, "--think"),
    checkBudgetMs: budgetMs,
    convergeTimeoutMs: CHECK_DEFAULTS.convergeTimeoutMs,
    mislabelSequential: values["mislabel-sequential"] === true,
    compose,
    replicaNodeArgs: replicaNodeArgs(values["replica-node-args"]),
    log: (line) => console.error(`[check] ${line}`),
  });
  console.log(fs.readFileSync(path.join(report.dir, "report.txt"), "utf8").trimEnd());
  return report.exitCode;
}

/**
 * `--replica-node-args`: split on spaces. A `--require` of a file must exist
 * (a replica that cannot load it never serves) and is made absolute, so that
 * Node.js does not look it up as a package.
 */
function replicaNodeArgs(raw: string | undefined): string[] {
  const args = (raw ?? "").split(/\s+/).filter(Boolean);
  return args.map((arg, i) => {
    const required = args[i - 1] === "--require" || args[i - 1] === "-r";
    if (!required || !/[/\\]|\.[cm]?js$/.test(arg)) return arg;
    if (!fs.existsSync(arg)) throw new UsageError(`--replica-node-args: no file ${arg}`);
    return path.resolve(arg);
  });
}

/**
 * The --compose* flags: null for a local process cluster, else what to test.
 * Refuses what the compose cluster cannot do rather than ignoring it.
 */
function composeTarget(
  values: {
    compose?: boolean;
    "compose-keep"?: boolean;
    "compose-running"?: boolean;
    "compose-partition"?: string;
    "replica-node-args"?: string;
    "lease-ttl"?: string;
    "snapshot-every"?: string;
    "retain-tail"?: string;
    "request-timeout"?: string;
  },
  nodes: number,
): { running: boolean; keep: boolean; partition: PartitionMode } | null {
  const running = values["compose-running"] === true;
  const keep = values["compose-keep"] === true;
  const rawMode = values["compose-partition"];
  if (!values.compose && !running && !keep && rawMode === undefined) return null;
  if (nodes !== COMPOSE_REPLICAS)
    throw new UsageError(
      `--compose: the compose cluster has ${COMPOSE_REPLICAS} replicas; --nodes must be ${COMPOSE_REPLICAS} (or left out)`,
    );
  const partition = (rawMode ?? "iptables") as PartitionMode;
  if (!PARTITION_MODES.includes(partition))
    throw new UsageError(`--compose-partition must be ${PARTITION_MODES.join(" or ")}`);
  if (values["replica-node-args"] !== undefined)
    throw new UsageError("--replica-node-args: the compose cluster's replicas run from the image");
  if (running) {
    for (const flag of ["lease-ttl", "snapshot-every", "retain-tail", "request-timeout"] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(
          `--${flag}: with --compose-running the running cluster's own settings hold ` +
            "(start it with PAXLOG_* variables: docker-compose.yml passes them through)",
        );
    }
  }
  return { running, keep, partition };
}

/**
 * The fault kinds of a compose run: a kind it cannot make is refused when
 * asked for by name, and left out (said on stderr) of the default "all".
 */
function composeFaults(
  faults: readonly FaultKind[],
  named: boolean,
  mode: PartitionMode,
): FaultKind[] {
  const kept: FaultKind[] = [];
  for (const kind of faults) {
    const problem = composeFaultProblem(kind, mode);
    if (problem === null) kept.push(kind);
    else if (named) throw new UsageError(`--faults: ${problem}`);
    else console.error(`[check] fault ${kind} left out: ${problem}`);
  }
  return kept;
}

/** `--history FILE`: check a saved history again; the same report path and exit codes. */
async function recheck(file: string, out: string | null, budgetMs: number): Promise<number> {
  let history: ReturnType<typeof parseHistory>;
  try {
    history = parseHistory(fs.readFileSync(file, "utf8"));
  } catch (error) {
    if (error instanceof HistoryParseError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const { check, files } = analyzeHistory(history, out ?? path.dirname(file), budgetMs);
  console.log(`${history.length} ops from ${file}`);
  console.log(check.report);
  for (const f of files) console.log(`failing partition written to ${f}`);
  console.log(
    `VERDICT: ${["OK", "VIOLATION", "UNKNOWN"][check.exitCode]} (exit ${check.exitCode})`,
  );
  return check.exitCode;
}
