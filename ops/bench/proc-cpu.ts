import fs from "node:fs";

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) the given processes have used so far, read
 * from /proc/<pid>/stat; a pid that is gone counts 0. Null where /proc is
 * not there (not Linux): then server CPU is not reported.
 */
export function processCpuSeconds(pids: readonly number[]): number | null {
  if (!fs.existsSync("/proc/self/stat")) return null;
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // The command name (field 2) may hold spaces: count fields after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name.
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/**
 * The whole machine's idle CPU seconds so far (idle + iowait, every core
 * together) from /proc/stat; null where there is none. Read at both ends of a
 * window, it tells whether the machine had CPU to spare: a system that leaves
 * cores idle under load is bound by something else than CPU.
 */
export function machineIdleSeconds(): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync("/proc/stat", "utf8");
  } catch {
    return null;
  }
  // "cpu  user nice system idle iowait irq softirq steal ...": the all-cores line comes first.
  const fields = stat.slice(0, stat.indexOf("\n")).trim().split(/\s+/);
  if (fields[0] !== "cpu" || fields.length < 6) return null;
  return (Number(fields[4]) + Number(fields[5])) / TICKS_PER_SECOND;
}
