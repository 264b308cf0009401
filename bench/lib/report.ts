import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { round } from './stats.js';

export type Verdict = 'PASS' | 'MISS' | 'INFO' | 'ERROR';

/** One line of the results table: a figure beside its peer measured in the same run. */
export interface Row {
  id: string;
  measurement: string;
  figure: string;
  peer: string;
  ratio: string;
  target: string;
  verdict: Verdict;
}

export function verdict(pass: boolean): Verdict {
  return pass ? 'PASS' : 'MISS';
}

export function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${round(value)}×` : 'n/a';
}

export function printTable(rows: readonly Row[]): void {
  const headers: Row = {
    id: '#',
    measurement: 'measurement',
    figure: 'figure',
    peer: 'peer (same run)',
    ratio: 'ratio',
    target: 'target',
    verdict: 'INFO',
  };
  const columns: Array<keyof Row> = ['id', 'measurement', 'figure', 'peer', 'ratio', 'target', 'verdict'];
  const cell = (row: Row, column: keyof Row): string => (row === headers && column === 'verdict' ? 'result' : row[column]);
  const widths = columns.map((c) => Math.max(...[headers, ...rows].map((r) => cell(r, c).length)));
  const line = (row: Row) => columns.map((c, i) => cell(row, c).padEnd(widths[i])).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  console.log([line(headers), rule, ...rows.map(line)].join('\n'));
}

export async function writeResults(payload: unknown): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.resolve('bench/results', `${stamp}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
