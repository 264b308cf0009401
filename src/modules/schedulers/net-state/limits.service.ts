import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { RawBuilder } from 'kysely';
import { badInput, notFound } from '../../../common/errors.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import { query, queryOne, sql } from '../../../database/sql.js';
import type { ProjectModel } from '../../models/models.model.js';
import type { TrustModel } from '../../trusts/trust.model.js';
import { lockClaims } from './claim-lock.js';
import {
  hasCome,
  runningJobsOfProjects,
  runningJobsOfTrusts,
  selectProject,
  updateProject,
  updateTrust,
  type TrustBefore,
} from './limits.sql.js';

/** What `setProjectLimits` changes: a setting left undefined stays as it is. */
export interface ProjectLimits {
  /** null: no limit */
  maxConcurrentJobs?: number | null;
  share?: number | null;
}

/** A limit raised or removed (null: no limit) may let a waiting job start. */
function loosens(previous: number | null, next: number | null): boolean {
  return previous !== null && (next === null || next > previous);
}

function assertLimit(limit: number | null | undefined): void {
  if (limit !== null && limit !== undefined && limit < 0) {
    throw badInput('maxConcurrentJobs must be 0 or more (null: no limit)', { field: 'maxConcurrentJobs' });
  }
}

/**
 * Trusts' and projects' capacity and holds (SPEC.md "Limits"), and the jobs
 * each runs now. Every change takes the claim lock first, in its own
 * transaction, so that no claim counts against half a change; one that may
 * let a waiting job start asks for a pickup cycle.
 */
@Injectable()
export class LimitsService {
  constructor(
    private readonly em: EntityManager,
    private readonly pickup: PickupSignal,
  ) {}

  /** At most this many jobs naming the trust IN_PROGRESS at once, on all nets together; null: no limit. */
  async setTrustLimit(trustId: string, maxConcurrentJobs: number | null): Promise<TrustModel> {
    assertLimit(maxConcurrentJobs);
    const { trust, before } = await this.changeTrust(trustId, sql`max_concurrent_jobs = ${maxConcurrentJobs}`);
    if (loosens(before.previousLimit, maxConcurrentJobs)) this.pickup.changed();
    return trust;
  }

  /** Jobs naming the trust wait until `releaseTrust`, or until `until` (null: until released); a new hold replaces the old. */
  async holdTrust(trustId: string, until: Date | null): Promise<TrustModel> {
    const { trust } = await this.changeTrust(trustId, sql`on_hold = true, hold_until = ${until}`, async (em) => {
      if (until && (await queryOne(em, hasCome(until)))?.come) {
        throw badInput('until must be in the future (leave it out to hold until released)', { field: 'until' });
      }
    });
    // the held jobs start at the hold's end: the pickup wakes then (other instances hear of it by the change notification)
    if (until) this.pickup.startsAt(until);
    return trust;
  }

  async releaseTrust(trustId: string): Promise<TrustModel> {
    const { trust, before } = await this.changeTrust(trustId, sql`on_hold = false, hold_until = null`);
    if (before.wasHeld) this.pickup.changed();
    return trust;
  }

  /** Changes the settings given (undefined: unchanged); `maxConcurrentJobs: null` removes the limit. */
  async setProjectLimits(projectId: string, limits: ProjectLimits): Promise<ProjectModel> {
    const { maxConcurrentJobs, share } = limits;
    assertLimit(maxConcurrentJobs);
    if (share !== undefined && (share === null || share < 1)) {
      throw badInput('share must be a whole number of at least 1', { field: 'share' });
    }
    const assignments = [
      ...(maxConcurrentJobs !== undefined ? [sql`max_concurrent_jobs = ${maxConcurrentJobs}`] : []),
      ...(share !== undefined ? [sql`share = ${share}`] : []),
    ];
    if (assignments.length === 0) {
      const project = await queryOne(this.em.fork(), selectProject(projectId));
      if (!project) throw notFound('Project', projectId);
      return project;
    }
    const row = await this.em.fork().transactional(async (em) => {
      await lockClaims(em);
      return queryOne(em, updateProject(projectId, sql.join(assignments)));
    });
    if (!row) throw notFound('Project', projectId);
    const { previousLimit, previousShare, ...project } = row;
    if ((maxConcurrentJobs !== undefined && loosens(previousLimit, maxConcurrentJobs)) || project.share !== previousShare) {
      this.pickup.changed();
    }
    return project;
  }

  /** Jobs IN_PROGRESS now naming each trust, in key order (GraphQL batching). */
  async runningJobsByTrustIds(trustIds: readonly string[]): Promise<number[]> {
    return countsOf(trustIds, await query(this.em.fork(), runningJobsOfTrusts(trustIds)));
  }

  /** Jobs IN_PROGRESS now of each project, in key order (GraphQL batching). */
  async runningJobsByProjectIds(projectIds: readonly string[]): Promise<number[]> {
    return countsOf(projectIds, await query(this.em.fork(), runningJobsOfProjects(projectIds)));
  }

  /** Under the claim lock: `check` (it may refuse), then the one write; NOT_FOUND for an unknown trust. */
  private async changeTrust(
    trustId: string,
    assignments: RawBuilder<unknown>,
    check?: (em: EntityManager) => Promise<void>,
  ): Promise<{ trust: TrustModel; before: TrustBefore }> {
    const row = await this.em.fork().transactional(async (em) => {
      await lockClaims(em);
      await check?.(em);
      return queryOne(em, updateTrust(trustId, assignments));
    });
    if (!row) throw notFound('Trust', trustId);
    const { previousLimit, wasHeld, ...trust } = row;
    return { trust, before: { previousLimit, wasHeld } };
  }
}

function countsOf(keys: readonly string[], rows: Array<{ id: string; running: number }>): number[] {
  const counts = new Map(rows.map((row) => [row.id, row.running]));
  return keys.map((key) => counts.get(key) ?? 0);
}
