import { conflict, type DomainError } from '../../common/errors.js';

/** The partial unique index that keeps one live job per model (migration 20261201050000). */
export const LIVE_JOB_INDEX = 'job_one_live_per_model';

export const liveJobConflict = (modelId: string, liveJobId: string | null): DomainError =>
  conflict(
    `model ${modelId} already has a live (QUEUED or IN_PROGRESS) job${liveJobId ? ` ${liveJobId}` : ''}: ` +
      'wait for it to end, or remove or stop it first',
    { field: 'modelId', ...(liveJobId ? { liveJobId } : {}) },
  );

/** A unique violation (23505) of the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown; cause?: { code?: unknown; constraint?: unknown } } | null;
  const pgError = e?.code === '23505' ? e : e?.cause?.code === '23505' ? e.cause : null;
  return pgError?.constraint === constraint;
}
