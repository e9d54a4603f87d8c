#!/usr/bin/env node
import "reflect-metadata";
import { MEASURE_HELP, measureCommand } from "./bench/measure";
import { BENCH_HELP, benchCommand } from "./bench-command";
import { CHECK_HELP, checkCommand } from "./check-command";
import { CLIENT_COMMANDS, CLIENT_HELP, clientCommand } from "./client-command";
import { CLUSTER_HELP, clusterCommand } from "./cluster-command";
import { SERVE_HELP, serveCommand } from "./serve-command";
import { SIM_HELP, simCommand } from "./sim-command";
import { UsageError } from "./usage-error";

const HELP = `paxlog — a replicated key-value store on a MultiPaxos log

Usage: paxlog <command> [options]

Running:
  cluster up   start a local etcd and N replicas on loopback (the quick start)
  serve        run one replica
  sim          run the deterministic cluster simulation (safety + liveness checks)
  check        fault-injection run on a local cluster, checked for linearizability
  bench        closed-loop benchmark on a local cluster, optionally --vs etcd
  measure      heap under sustained writes, catch-up and rejoin times (issue 5)

Client (against --endpoints, any replica; JSON out):
  put KEY VALUE | get KEY | del KEY | cas KEY EXPECTED|--absent VALUE
  incr KEY [BY] | append KEY SUFFIX | keys [PREFIX] | range START [END] | status
  digest | replay    (every endpoint: state digests; rebuild-from-snapshot check)

Run "paxlog <command> --help" for a command's options.`;

const HELPS: Record<string, string> = {
  bench: BENCH_HELP,
  check: CHECK_HELP,
  cluster: CLUSTER_HELP,
  measure: MEASURE_HELP,
  serve: SERVE_HELP,
  sim: SIM_HELP,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "sim":
      return simCommand(rest);
    case "serve":
      return serveCommand(rest);
    case "cluster":
      return clusterCommand(rest);
    case "check":
      return checkCommand(rest);
    case "bench":
      return benchCommand(rest);
    case "measure":
      return measureCommand(rest);
    case undefined:
    case "help":
    case "-h":
    case "--help":
      console.log(HELP);
      return 0;
    default:
      if (CLIENT_COMMANDS.includes(command)) return clientCommand(command, rest);
      console.error(`paxlog: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const command = process.argv[2] ?? "";
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      const help = HELPS[command] ?? (CLIENT_COMMANDS.includes(command) ? CLIENT_HELP : HELP);
      console.error(`paxlog ${command}: ${(error as Error).message}\n\n${help}`);
      process.exitCode = 2;
    } else {
      console.error(`paxlog ${command}: ${(error as Error).stack ?? error}`);
      process.exitCode = 1;
    }
  },
);
