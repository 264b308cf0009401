import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

const round2 = (v: number) => Math.round(v * 100) / 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in ticks */
  own: number;
  /** cutime + cstime: reaped children (exited backends), in ticks */
  children: number;
}

function readStat(pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: split after its closing parenthesis
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      pid: Number(pid),
      ppid: Number(fields[1]),
      own: Number(fields[11]) + Number(fields[12]),
      children: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return null;
  }
}

/** CPU time (ms) used so far by the PostgreSQL cluster in `dataDir`: postmaster, its live children and reaped ones. Null off Linux. */
export function postgresCpuMs(dataDir: string): number | null {
  try {
    const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(entry);
      if (!stat) continue;
      if (stat.pid === postmaster) ticks += stat.own + stat.children;
      else if (stat.ppid === postmaster) ticks += stat.own;
    }
    return (ticks / CLOCK_TICKS_PER_SECOND) * 1000;
  } catch {
    return null;
  }
}

export interface CpuReport {
  wallMs: number;
  /** busy share of this (the hubs') thread's event loop, 0..1 */
  mainThreadEventLoop: number;
  /** this whole Node process (all threads), in cores */
  nodeProcessCores: number;
  /** the PostgreSQL cluster, in cores; null when unknown */
  postgresCores: number | null;
}

/** Samples where CPU time goes during a measurement: call it before, and call the returned function after. */
export function cpuProbe(dataDir: string): () => CpuReport {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const pg = postgresCpuMs(dataDir);
  const began = performance.now();
  return () => {
    const wallMs = performance.now() - began;
    const used = process.cpuUsage(cpu);
    const pgAfter = postgresCpuMs(dataDir);
    return {
      wallMs: Math.round(wallMs),
      mainThreadEventLoop: round2(performance.eventLoopUtilization(elu).utilization),
      nodeProcessCores: round2((used.user + used.system) / 1000 / wallMs),
      postgresCores: pg === null || pgAfter === null ? null : round2((pgAfter - pg) / wallMs),
    };
  };
}

/** Field-wise mean of several reports (wall time summed). */
export function meanCpu(reports: readonly CpuReport[]): CpuReport {
  const mean = (pick: (r: CpuReport) => number) => round2(reports.reduce((sum, r) => sum + pick(r), 0) / reports.length);
  const pg = reports.map((r) => r.postgresCores);
  return {
    wallMs: reports.reduce((sum, r) => sum + r.wallMs, 0),
    mainThreadEventLoop: mean((r) => r.mainThreadEventLoop),
    nodeProcessCores: mean((r) => r.nodeProcessCores),
    postgresCores: pg.some((v) => v === null) ? null : mean((r) => r.postgresCores ?? 0),
  };
}
