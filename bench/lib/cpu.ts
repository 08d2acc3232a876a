import { existsSync, readdirSync, readFileSync } from "node:fs";
import type postgres from "postgres";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime of the process (all its threads), seconds. */
  own: number;
  /** cutime + cstime: children it has waited for, seconds. */
  children: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return {
      ppid: Number(rest[1]),
      own: (Number(rest[11]) + Number(rest[12])) / TICKS_PER_S,
      children: (Number(rest[13]) + Number(rest[14])) / TICKS_PER_S,
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds a process (and its reaped children) has used so far. */
export function processCpu(pid: number): number {
  const stat = readStat(pid);
  return stat ? stat.own + stat.children : NaN;
}

/**
 * CPU seconds a whole Postgres cluster has used: the postmaster, its reaped children (backends
 * that have exited land in its cutime/cstime) and its live children (backends, walwriter,
 * checkpointer...). Only this cluster: other clusters on the machine have another postmaster.
 */
export function clusterCpu(postmasterPid: number): number {
  const master = readStat(postmasterPid);
  if (!master) return NaN;
  let total = master.own + master.children;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === postmasterPid) total += stat.own + stat.children;
  }
  return total;
}

/** The postmaster of the cluster `sql` talks to, when it runs on this machine (else undefined). */
export async function postmasterPid(sql: postgres.Sql): Promise<number | undefined> {
  if (!existsSync("/proc/self/stat")) return undefined;
  const [{ pid, dir }] = await sql`select pg_backend_pid() as pid, current_setting('data_directory') as dir`;
  const fromFile = (() => {
    try {
      return Number(readFileSync(`${dir}/postmaster.pid`, "utf8").split("\n")[0]);
    } catch {
      return undefined;
    }
  })();
  const parent = readStat(Number(pid))?.ppid;
  return fromFile && fromFile === parent ? fromFile : parent;
}

/** CPU used during `run`, per process group, in seconds. */
export async function measureCpu<T>(
  groups: Record<string, () => number>,
  run: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(groups).map(([name, read]) => [name, read()]));
  const loadBefore = process.cpuUsage();
  const result = await run();
  const load = process.cpuUsage(loadBefore);
  const cpu: Record<string, number> = {};
  for (const [name, read] of Object.entries(groups)) cpu[name] = read() - before[name];
  cpu.load_generator = (load.user + load.system) / 1e6;
  return { result, cpu };
}

/** The 1-minute load average, for printing next to figures measured on a shared machine. */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}
