/** Running the compiled `paxlog` CLI as a real process, with a deadline. */

import { spawn } from "node:child_process";
import path from "node:path";

export const CLI = path.resolve(__dirname, "../../ops/cli.js");

export interface CliRun {
  /** Exit code (null if killed by a signal). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs `node dist/ops/cli.js ...args` to completion. A run still going after
 * `timeoutMs` is killed (SIGKILL) and reported with signal SIGKILL.
 */
export function runCli(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? withoutPaxlogEnv(),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The JSON a client command printed on stdout (throws with the output if it is not JSON). */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked by the tests
export function jsonOut(run: CliRun): any {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(
      `not JSON (exit ${run.code}):\nstdout: ${run.stdout}\nstderr: ${run.stderr.slice(0, 2000)}`,
    );
  }
}

/** This process's environment without PAXLOG_* variables (so only the flags count). */
export function withoutPaxlogEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("PAXLOG_")),
  );
}
