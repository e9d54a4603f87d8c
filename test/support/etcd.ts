/**
 * A real, throw-away etcd server for tests: free loopback ports, a data dir in
 * a temp dir (tmpfs when /dev/shm exists), tuned so that a 1 s lease TTL is a
 * real 1 s (see STACK-NOTES). Never leaves an orphan behind: the server is
 * killed on stop(), on process exit, and by a tiny detached watchdog if this
 * process dies without running its exit handlers (SIGKILL, crash of the runner).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { waitFor } from "./wait";

export interface EtcdOptions {
  /** etcd member name (default "paxlog-test"). */
  name?: string;
  /** How long to wait for the server to answer (default 15 s). */
  startTimeoutMs?: number;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** etcd binary (default `etcd` on PATH, or $PAXLOG_ETCD_BIN). */
  binary?: string;
}

export interface EtcdServer {
  /** Client URLs, e.g. ["http://127.0.0.1:23791"]. */
  readonly endpoints: string[];
  readonly pid: number;
  readonly dataDir: string;
  /** Kills the server and removes its data dir. Idempotent. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): TCP still connects, nothing answers. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Last lines etcd wrote (for diagnostics when a test fails). */
  output(): string;
}

/** Servers still running, killed synchronously on process exit. */
const live = new Set<{ child: ChildProcess; dataDir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const s of live) {
      try {
        s.child.kill("SIGKILL");
      } catch {
        // already gone
      }
      try {
        rmSync(s.dataDir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
    live.clear();
  });
}

import { freePort } from "./ports";

export { freePort };

function tempRoot(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
}

function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${clientUrl}/health`, { timeout: 500 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(res.statusCode === 200 && body.includes('"true"')));
      res.on("error", () => resolve(false));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/**
 * Watchdog: a detached shell that kills etcd (and removes its dir) as soon as
 * this process is gone; it exits by itself once etcd is gone.
 */
function spawnWatchdog(etcdPid: number, dataDir: string): void {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.2; done; ' +
    'if ! kill -0 "$1" 2>/dev/null; then kill -9 "$2" 2>/dev/null; rm -rf "$3"; fi';
  const dog = spawn(
    "sh",
    ["-c", script, "etcd-watchdog", String(process.pid), String(etcdPid), dataDir],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  dog.on("error", () => undefined);
  dog.unref();
}

async function startOnce(options: EtcdOptions): Promise<EtcdServer> {
  const name = options.name ?? "paxlog-test";
  const [clientPort, peerPort] = await Promise.all([freePort(), freePort()]);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dataDir = mkdtempSync(path.join(tempRoot(), "paxlog-etcd-"));
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    "--initial-cluster-state=new",
    "--heartbeat-interval=50",
    "--election-timeout=500",
    "--logger=zap",
    "--log-outputs=stderr",
    "--log-level=warn",
    ...(options.extraArgs ?? []),
  ];
  const binary = options.binary ?? process.env["PAXLOG_ETCD_BIN"] ?? "etcd";
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const entry = { child, dataDir };
  live.add(entry);
  installExitHook();

  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString("utf8"));
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  let exited = false;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      live.delete(entry);
      resolve();
    });
    child.once("error", (err) => {
      spawnError = err;
      exited = true;
      live.delete(entry);
      resolve();
    });
  });
  if (child.pid !== undefined) spawnWatchdog(child.pid, dataDir);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (!exited) {
        try {
          child.kill("SIGKILL"); // works on a SIGSTOPped process too
        } catch {
          // already gone
        }
      }
      await exitedPromise;
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const output = () => tail.join("");

  try {
    await waitFor(
      async () => {
        if (exited) {
          throw new Error(
            `etcd exited during start${spawnError ? `: ${spawnError.message}` : ""}\n${output()}`,
          );
        }
        return healthy(clientUrl);
      },
      {
        timeoutMs: options.startTimeoutMs ?? 15_000,
        intervalMs: 20,
        message: `etcd at ${clientUrl}`,
      },
    );
  } catch (err) {
    await stop();
    const detail = exited ? "" : `\n${output()}`;
    throw new Error(`could not start etcd: ${(err as Error).message}${detail}`, { cause: err });
  }

  const signal = (sig: NodeJS.Signals) => {
    if (exited) throw new Error(`etcd (pid ${child.pid}) is not running`);
    child.kill(sig);
  };
  return {
    endpoints: [clientUrl],
    pid: child.pid ?? -1,
    dataDir,
    stop,
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    output,
  };
}

/**
 * Starts etcd and waits until /health answers. Retries a couple of times when
 * a port picked as free got taken in between.
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
      if (!/address already in use/i.test(String((err as Error).message))) break;
    }
  }
  throw lastError;
}
