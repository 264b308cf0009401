import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/** Self time of this thread grouped by where the code lives (npm package, hub source file, Node internals, GC). */
export interface ProfileSummary {
  label: string;
  /** the .cpuprofile written for a closer look (Chrome DevTools, speedscope) */
  file: string;
  /** samples that were not idle */
  busySamples: number;
  /**
   * share of busy time, by area, largest first; time in natives and Node
   * internals is charged to the nearest package or hub frame that called them
   * (socket writes under pg count as pg)
   */
  byArea: Array<{ area: string; percent: number }>;
  /** the busiest functions (self time) */
  topFunctions: Array<{ fn: string; percent: number }>;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
}

function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (url.startsWith('node:')) return 'node: internals';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return `hub ${url.slice(src + 1)}`;
  if (url.includes('/bench/') || url.includes('/test/')) return 'bench harness';
  return url;
}

const top = <K>(counts: Map<K, number>, total: number, n: number) =>
  [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, hits]) => ({ key, percent: Math.round((hits / total) * 1000) / 10 }));

/** Self time by area and by function; see ProfileSummary. */
export function summarizeProfile(profile: CpuProfile, label: string, file: string): ProfileSummary {
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const parents = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node);
  const charged = (node: ProfileNode): string => {
    const own = areaOf(node.callFrame);
    if (own !== '(native)' && own !== 'node: internals') return own;
    for (let up = parents.get(node.id); up; up = parents.get(up.id)) {
      const area = areaOf(up.callFrame);
      if (area !== '(native)' && area !== 'node: internals' && area !== '(root)') return area;
    }
    return own;
  };
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    busy += hits;
    const area = charged(node);
    areas.set(area, (areas.get(area) ?? 0) + hits);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${areaOf(node.callFrame)}:${node.callFrame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + hits);
  }
  return {
    label,
    file,
    busySamples: busy,
    byArea: top(areas, busy, 14).map(({ key, percent }) => ({ area: key, percent })),
    topFunctions: top(functions, busy, 12).map(({ key, percent }) => ({ fn: key, percent })),
  };
}

/** Starts the CPU profiler of THIS thread; the returned function stops it, writes the .cpuprofile and summarizes it. */
export async function startProfiling(): Promise<(label: string) => Promise<ProfileSummary>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  } catch (error) {
    session.disconnect();
    throw error;
  }
  return async (label) => {
    try {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = path.resolve('bench/results', `${stamp}-${label}.cpuprofile`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      return summarizeProfile(profile, label, file);
    } finally {
      await session.post('Profiler.disable').catch(() => undefined);
      session.disconnect();
    }
  };
}

/** Profiles THIS thread (the hubs' thread) while `work` runs. */
export async function profileThread<T>(label: string, work: () => Promise<T>): Promise<{ result: T; summary: ProfileSummary }> {
  const stop = await startProfiling();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await stop(label).catch(() => undefined);
    throw error;
  }
  return { result, summary: await stop(label) };
}

/** "label: area 23%, area 12%, …" for the notes under the table. */
export function profileNote(summary: ProfileSummary, areas = 8): string {
  const list = summary.byArea
    .slice(0, areas)
    .map((a) => `${a.area} ${a.percent}%`)
    .join(', ');
  return `profile ${summary.label} (hub thread self time): ${list} — ${summary.file}`;
}
