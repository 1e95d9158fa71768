/** CPU time of a process's threads, read from /proc (Linux only): for the benchmarks that time a server from outside it. */
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time (µs) of each thread of process `pid`, by thread id, from /proc/<pid>/task/<tid>/schedstat
 * (the scheduler's run time in ns; /proc/<pid>/stat counts 10 ms ticks).
 */
export function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1000);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return out;
}

/** CPU time (µs) of all the threads of process `pid` together. */
export function processCpu(pid: number): number {
  let total = 0;
  for (const us of threadCpu(pid).values()) total += us;
  return total;
}
