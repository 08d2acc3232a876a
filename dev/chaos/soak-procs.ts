import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clusterDataDir } from "../stack/postgres-access.ts";

/** A process's memory from /proc/<pid>/status, in bytes; null once the process is gone. */
export interface ProcessMemory {
  /** VmRSS: everything resident, shared pages included. */
  rss: number;
  /** RssAnon: private anonymous memory (heaps); a leak shows here. */
  anon: number;
  /** RssShmem: shared memory (Postgres's shared buffers, counted again in every backend that touched them). */
  shmem: number;
  /** Pss from smaps_rollup: resident memory with each shared page divided among its sharers (sums correctly). */
  pss: number;
}

export function processMemory(pid: number): ProcessMemory | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  let rollup = "";
  try {
    rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    // Not readable (another user's process, an old kernel): Pss stays 0.
  }
  const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb(status, "VmRSS"), anon: kb(status, "RssAnon"), shmem: kb(status, "RssShmem"), pss: kb(rollup, "Pss") };
}

/**
 * The postmaster of the embedded cluster a throwaway stack started in `localDir`: the first line
 * of `postmaster.pid` in its data directory (`<localDir>/db`, or the shared place it moves to
 * when the postgres user cannot reach it; see postgres-access.ts). Null for an external server.
 */
export function postmasterPid(localDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(clusterDataDir(join(localDir, "db")), "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** `root` and its children (backends, checkpointer, WAL writer...), found by their parent pid in /proc/<pid>/stat. */
export function withChildren(root: number): number[] {
  const pids = [root];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name (field 2) is in parentheses and may hold spaces: fields after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === root) pids.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return pids;
}

/** Every Postgres process of a throwaway stack's embedded cluster (none for an external server). */
export function postgresProcesses(localDir: string): number[] {
  const root = postmasterPid(localDir);
  return root === null ? [] : withChildren(root);
}

/** CPU seconds a process has used (user + system, /proc/<pid>/stat fields 14 and 15); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Clock ticks; Linux reports them at USER_HZ, 100 on every mainstream build.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The machine's 1-minute load average, for reading latency on a shared machine. */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}
