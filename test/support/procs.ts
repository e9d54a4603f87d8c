/** Looking at real processes and ports (Linux /proc), for tests that check for orphans. */

import fs from "node:fs";
import net from "node:net";
import { canListen } from "../../ops/ports";

/** PIDs whose parent is `pid` (from /proc/<pid>/stat). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), "stat");
    if (stat === null) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/** The process's argv, or null when it is gone. */
export function cmdline(pid: number): string[] | null {
  const raw = readProc(pid, "cmdline");
  return raw === null ? null : raw.split("\0").filter(Boolean);
}

/** True while the process exists and is not a zombie. */
export function running(pid: number): boolean {
  const stat = readProc(pid, "stat");
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  return state !== "Z" && state !== "X";
}

/** PIDs (other than this process) whose command line contains `needle`. */
export function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const args = cmdline(Number(entry));
    if (args?.some((a) => a.includes(needle))) out.push(Number(entry));
  }
  return out;
}

function readProc(pid: number, file: string): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return null;
  }
}

/** True if something accepts TCP connections on 127.0.0.1:port. */
export function accepting(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * The first of `count` consecutive loopback ports that were all free a moment
 * ago, below the kernel's ephemeral range (so outgoing connections do not take
 * them meanwhile). Tries at most 50 random blocks.
 */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canListen(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}
