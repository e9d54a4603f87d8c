#!/usr/bin/env node
import "reflect-metadata";
import { SIM_HELP, simCommand, UsageError } from "./sim-command";

const HELP = `paxlog — a replicated key-value store on a MultiPaxos log

Usage: paxlog <command> [options]

Commands:
  sim       run the deterministic cluster simulation (safety + liveness checks)
  help      this text

Run "paxlog <command> --help" for a command's options.`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case "sim":
      return simCommand(rest);
    case undefined:
    case "help":
    case "-h":
    case "--help":
      console.log(HELP);
      return 0;
    default:
      console.error(`paxlog: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    console.error(`paxlog: ${(error as Error).message}\n\n${SIM_HELP}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
