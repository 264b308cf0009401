import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobStatus } from './states.js';
import { LIFECYCLE_STATEMENTS } from './statements.js';
import {
  canJobMove,
  JOB_MOVES,
  JobState,
  LIVE_JOB_STATUSES,
  NET_MOVES,
  NetState,
  REMOVABLE_JOB_STATUSES,
} from './transitions.js';

const { QUEUED, IN_PROGRESS, COMPLETED, DELETED } = JobStatus;

describe('job transitions', () => {
  it.each([
    [QUEUED, IN_PROGRESS, true],
    [QUEUED, DELETED, true],
    [QUEUED, COMPLETED, false],
    [IN_PROGRESS, COMPLETED, true],
    [IN_PROGRESS, DELETED, true],
    [IN_PROGRESS, QUEUED, true],
    [COMPLETED, DELETED, true],
    [COMPLETED, IN_PROGRESS, false],
    [COMPLETED, QUEUED, false],
    [DELETED, QUEUED, false],
    [DELETED, IN_PROGRESS, false],
    [DELETED, COMPLETED, false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canJobMove(from, to)).toBe(allowed);
  });

  it('derives the removable and live statuses from the table', () => {
    expect([...REMOVABLE_JOB_STATUSES].sort()).toEqual([COMPLETED, IN_PROGRESS, QUEUED].sort());
    expect(LIVE_JOB_STATUSES).toEqual([QUEUED, IN_PROGRESS]);
  });
});

describe('the lifecycle statements against the transition table', () => {
  it('has one declaration per statement, each with a distinct name and at least one move', () => {
    const names = LIFECYCLE_STATEMENTS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const moveless = LIFECYCLE_STATEMENTS.filter((s) => (s.job?.length ?? 0) + (s.net?.length ?? 0) === 0);
    expect(moveless.map((s) => s.name)).toEqual([]);
  });

  it.each(LIFECYCLE_STATEMENTS.map((s) => [s.name, s] as const))('%s moves rows only along the table', (_name, statement) => {
    const offTable = [
      ...(statement.job ?? []).filter(([from, to]) => !JOB_MOVES[from].includes(to)).map(([f, t]) => `job ${f} → ${t}`),
      ...(statement.net ?? []).filter(([from, to]) => !NET_MOVES[from].includes(to)).map(([f, t]) => `net ${f} → ${t}`),
    ];
    expect(offTable).toEqual([]);
  });

  it('uses every move of the table in some statement (the table says nothing no statement does)', () => {
    const declared = new Set(
      LIFECYCLE_STATEMENTS.flatMap((s) => [
        ...(s.job ?? []).map(([f, t]) => `job ${f} → ${t}`),
        ...(s.net ?? []).map(([f, t]) => `net ${f} → ${t}`),
      ]),
    );
    const table = [
      ...Object.entries(JOB_MOVES).flatMap(([f, ts]) => ts.map((t) => `job ${f} → ${t}`)),
      ...Object.entries(NET_MOVES).flatMap(([f, ts]) => ts.map((t) => `net ${f} → ${t}`)),
    ];
    expect(table.filter((move) => !declared.has(move))).toEqual([]);
  });

  it('names every state of a job and a net in the table', () => {
    expect(Object.keys(JOB_MOVES).sort()).toEqual(Object.values(JobState).sort());
    expect(Object.keys(NET_MOVES).sort()).toEqual(Object.values(NetState).sort());
  });

  it('declares every statement in its own file beside its SQL, which ends with the declaration tag', () => {
    const dir = import.meta.dirname;
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => readFileSync(join(dir, f), 'utf8'));
    const declared = sources.flatMap((text) =>
      [...text.matchAll(/export const (\w+) = lifecycleStatement\('(\w+)'/g)].map(([, constant, name]) => ({
        name,
        tagged: text.includes(`\${${constant}.tag}\``),
      })),
    );
    expect(declared.map((d) => d.name).sort()).toEqual(LIFECYCLE_STATEMENTS.map((s) => s.name).sort());
    expect(declared.filter((d) => !d.tagged).map((d) => d.name)).toEqual([]);
  });
});
