import { randomUUID } from 'node:crypto';
import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NetScope } from '../../common/auth/scopes.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { badInput, conflict, DomainError, notFound } from '../../common/errors.js';
import { PickupSignal } from '../../common/pickup-signal.js';
import { query, queryOne, sql } from '../../database/sql.js';
import { checkClients, policyFor } from '../../fl-backends/backend-policy.js';
import { NetCallError, NetClient, type NetRef } from '../../fl-backends/net-client.js';
import { MetricsService } from '../../observability/metrics.service.js';
import { currentRequestId } from '../../observability/request-context.js';
import { JobStatus } from '../jobs/job.entity.js';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.sql.js';
import { ModelStatus } from '../models/model-status.js';
import type { Claim } from './claim.service.js';
import type { StartDetails } from './start-details.js';
import { lockReportedRun } from './reported-run.js';
import { endRuns } from './run-ending.js';
import { confirmDeadline } from './start-lease.js';

/**
 * Starting a claimed job on its net, and ending runs. HTTP calls happen
 * outside any transaction; every write after them compares-and-sets on the
 * claim token, so a stale instance cannot undo another's work.
 */
@Injectable()
export class TrainingService {
  private readonly logger = new Logger('Training');

  constructor(
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly pickup: PickupSignal,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * `prepare_and_start_training` as a mutation: the job must be claimed on a
   * net (IN_PROGRESS, not yet started) and `trustIds` must be its trusts.
   */
  async startTraining(modelId: string, jobId: string, trustIds: string[]): Promise<JobRow> {
    const em = this.em.fork();
    const row = await queryOne<
      JobRow & { claimToken: string | null; phase: string | null; trustIds: string[]; schedulerId: string | null }
    >(
      em,
      sql`select ${JOB_COLUMNS}, j.claim_token as "claimToken", j.start_phase as phase,
            array(select trust_id::text from job_trust where job_id = j.id) as "trustIds",
            (select id from scheduler where job_id = j.id) as "schedulerId"
          from job j where j.id = ${jobId}`,
    );
    if (!row || row.modelId !== modelId) throw notFound(`Job ${jobId} of model`, modelId);
    if (row.status !== JobStatus.IN_PROGRESS || row.phase !== 'CLAIMED' || row.claimToken === null) {
      throw conflict('the job is not claimed on a net and waiting to start (claim it with claimQueuedJob)', {
        status: row.status,
      });
    }
    const expected = new Set(row.trustIds);
    if (trustIds.length !== expected.size || !trustIds.every((t) => expected.has(t))) {
      throw badInput("trustIds must be exactly the job's trusts", { field: 'trustIds' });
    }
    const { claimToken, phase: _phase, trustIds: jobTrusts, schedulerId, ...job } = row;
    return this.prepareAndStartTraining({ job, claimToken, schedulerId: schedulerId ?? '', trustIds: jobTrusts }, trustIds);
  }

  /**
   * Resolves the net's backend and endpoint, maps trusts to kit slot names,
   * checks the clients, uploads the app, submits the job and records the
   * net's run id. On failure the job is removed, the model goes to ERROR, the
   * net is released, and the error is raised.
   */
  async prepareAndStartTraining(claim: Claim, trustIds: string[]): Promise<JobRow> {
    const { job, claimToken } = claim;
    const requestId = currentRequestId() ?? randomUUID();
    let submitting = false;
    try {
      const details = claim.details ?? (await this.loadStartDetails(job.id, trustIds));
      const net: NetRef = { name: details.netName, endpoint: details.endpoint };
      const slotNames = this.slotNamesOf(details);
      if (details.cohortQuery === null) throw notFound(`a cohort query for the project of model ${job.modelId}`);

      const policy = policyFor(details.flBackend);
      const clients = checkClients(policy, slotNames, await this.nets.checkClientStatus(net, requestId));
      if (clients.blocksStart) {
        throw new DomainError('NET_UNAVAILABLE', `net "${net.name}": clients offline: ${clients.offline.join(', ')}`, {
          reason: 'CLIENTS_OFFLINE',
          offlineClients: clients.offline,
        });
      }
      if (clients.offline.length > 0) {
        this.logger.warn(
          `net "${net.name}" (${policy.backend}): starting job ${job.id} with offline clients ${clients.offline.join(', ')}`,
        );
      }
      await this.nets.uploadApp(
        net,
        job.modelId,
        { project_id: details.projectId, cohort_query: details.cohortQuery, trusts: slotNames, bundle_urls: [] },
        requestId,
      );
      const deadline = confirmDeadline(job.startedAt ?? new Date(), this.config.netLeaseMs);
      submitting = await this.markSubmitting(job.id, claimToken, deadline);
      if (!submitting) throw conflict('the job was removed or recovered while it was starting', { jobId: job.id });
      const backendJobId = await this.nets.submitJob(net, job.modelId, requestId);
      const started = await this.confirmStart(job.id, claimToken, claim.schedulerId, backendJobId, deadline);
      if (!started) {
        this.logger.warn(`job ${job.id} ended while starting; aborting run ${backendJobId} on "${net.name}"`);
        await this.nets.abortJob(net, backendJobId, requestId).catch(() => undefined);
        throw conflict('the job was removed or recovered while it was starting', { jobId: job.id });
      }
      this.metrics.dispatches.inc({ backend: details.flBackend });
      this.metrics.pickupLatency.observe((Date.now() - new Date(job.createdAt).getTime()) / 1000);
      return started;
    } catch (error) {
      this.metrics.startFailures.inc({ reason: failureReason(error) });
      await this.failStart(claim, error, submitting);
      throw error;
    }
  }

  /**
   * `update_fl_scheduler`: the model's running job COMPLETED, its net
   * AVAILABLE. Null when nothing runs; a net may complete only its own run.
   */
  async updateFlScheduler(modelId: string, reporter: NetScope): Promise<JobRow | null> {
    const em = this.em.fork();
    const ended = await em.transactional(async (tx) => {
      await this.lockExistingModel(tx, modelId);
      return endRuns(tx, await lockReportedRun(tx, modelId, reporter), JobStatus.COMPLETED, null);
    });
    if (ended.length > 0) this.pickup.changed();
    return ended.at(-1) ?? null;
  }

  /** The job as it is now in the database. */
  async currentJob(jobId: string): Promise<JobRow | undefined> {
    return queryOne<JobRow>(this.em.fork(), sql`select ${JOB_COLUMNS} from job j where j.id = ${jobId}`);
  }

  private async loadStartDetails(jobId: string, trustIds: string[]): Promise<StartDetails> {
    const details = await queryOne<StartDetails>(
      this.em.fork(),
      sql`select n.name as "netName", n.endpoint, n.fl_backend as "flBackend", m.project_id as "projectId",
            (select query from cohort_query where project_id = m.project_id order by seq desc limit 1) as "cohortQuery",
            (select coalesce(json_agg(json_build_object('trustId', t.id, 'slotName', k.slot_name) order by t.ord), '[]'::json)
             from unnest(${trustIds}::uuid[]) with ordinality as t(id, ord)
             left join kit_slot k on k.assigned_trust_id = t.id) as slots
          from job j join net n on n.id = j.net_id join model m on m.id = j.model_id
          where j.id = ${jobId}`,
    );
    if (!details) throw notFound('Job', jobId);
    return details;
  }

  private slotNamesOf(details: StartDetails): string[] {
    const missing = details.slots.filter((s) => s.slotName === null).map((s) => s.trustId);
    if (missing.length > 0) {
      throw badInput(`trust(s) without a kit slot cannot train: ${missing.join(', ')}`, { trustIds: missing });
    }
    return details.slots.map((s) => s.slotName as string);
  }

  /** Idempotent (a retry after a lost answer finds the phase already set), so it is retried on database errors. */
  private async markSubmitting(jobId: string, claimToken: string, deadline: number): Promise<boolean> {
    const rows = await retryOnDatabaseError(deadline, () =>
      query(
        this.em.fork(),
        sql`update job set start_phase = 'SUBMITTING'
            where id = ${jobId} and claim_token = ${claimToken} and status = 'IN_PROGRESS' and start_phase in ('CLAIMED', 'SUBMITTING')
            returning id`,
      ),
    );
    return rows.length === 1;
  }

  /**
   * Records the run id, drops the lease (the start is confirmed) and moves the
   * model to INITIATED. The run exists on the net now: losing this write would
   * make lease recovery run the job again, so it is idempotent and retried on
   * database errors until the deadline — the lease plus the confirmation
   * grace, during which recovery leaves the start to this live instance.
   */
  private async confirmStart(
    jobId: string,
    claimToken: string,
    schedulerId: string,
    backendJobId: string,
    deadline: number,
  ): Promise<JobRow | undefined> {
    return retryOnDatabaseError(deadline, () => this.confirmStartOnce(jobId, claimToken, schedulerId, backendJobId));
  }

  /**
   * The confirmation, or — when recovery put the job back in the queue first,
   * holding its net for a sweep (this instance's sessions were gone, or the
   * grace ran out) — the late confirmation takes the job back:
   * its run exists on that net, so running it again elsewhere would run it
   * twice. Only while nobody has claimed the job again and the net still
   * waits for its sweep; otherwise the caller aborts the run.
   */
  private async confirmStartOnce(
    jobId: string,
    claimToken: string,
    schedulerId: string,
    backendJobId: string,
  ): Promise<JobRow | undefined> {
    return queryOne<JobRow>(
      this.em.fork(),
      sql`with started as (
            update job set backend_job_id = ${backendJobId}, start_phase = 'RUNNING'
            where id = ${jobId} and claim_token = ${claimToken} and status = 'IN_PROGRESS'
              and (start_phase = 'SUBMITTING' or (start_phase = 'RUNNING' and backend_job_id = ${backendJobId}))
            returning *
          ), taken_back as (
            update job j set status = 'IN_PROGRESS', net_id = s.net_id, claim_token = ${claimToken},
              start_phase = 'RUNNING', backend_job_id = ${backendJobId}, started_at = clock_timestamp(), missing_since = null
            from scheduler s
            where not exists (select 1 from started)
              and j.id = ${jobId} and j.status = 'QUEUED' and j.claim_token is null
              and s.id = nullif(${schedulerId}, '')::uuid and s.status = 'BUSY' and s.job_id is null and s.sweep_pending
            returning j.*
          ), held as (
            update scheduler s set job_id = t.id, sweep_pending = false, lease_until = null, updated_at = now()
            from taken_back t where s.id = nullif(${schedulerId}, '')::uuid
          ), confirmed as (
            update scheduler set lease_until = null, updated_at = now() where job_id in (select id from started)
          ), model_started as (
            update model set status = 'INITIATED', updated_at = now()
            where id in (select model_id from started union all select model_id from taken_back) and status = 'PENDING'
          )
          select ${JOB_COLUMNS} from (select * from started union all select * from taken_back) j`,
    );
  }

  /** The job is removed (DELETED), the model goes to ERROR and the net is released — or held for a sweep if a run may exist. */
  private async failStart(claim: Claim, error: unknown, submitted: boolean): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`start of job ${claim.job.id} failed: ${reason}`);
    try {
      const ended = await endRuns(
        this.em.fork(),
        { jobId: claim.job.id, claimToken: claim.claimToken },
        JobStatus.DELETED,
        ModelStatus.ERROR,
        submitted ? { leaseMs: this.config.netLeaseMs } : undefined,
      );
      if (ended.length > 0 && !submitted) this.pickup.changed();
    } catch (cleanupError) {
      // The claim's lease still expires, and recovery takes over.
      this.logger.error(`could not record the failed start of job ${claim.job.id}: ${String(cleanupError)}`);
    }
  }

  private async lockExistingModel(em: EntityManager, modelId: string): Promise<{ status: ModelStatus }> {
    const model = await queryOne<{ status: ModelStatus }>(em, sql`select status from model where id = ${modelId} for update`);
    if (!model) throw notFound('Model', modelId);
    return model;
  }
}

/** A short label for why a start failed (metrics). */
function failureReason(error: unknown): string {
  if (error instanceof NetCallError) return `net:${error.call}`;
  if (error instanceof DomainError) return typeof error.details?.reason === 'string' ? error.details.reason : error.code;
  return 'internal';
}

/** Backoff between retries of a start's writes: quick at first, then once a second. */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];
/**
 * Retries a write whose loss would cost a run while the database is away (a
 * dropped connection, a restart, a fail-over) — until `deadline` (ms epoch),
 * then the error stands. Domain errors (a lost compare-and-set) are not retried.
 */
async function retryOnDatabaseError<T>(deadline: number, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      if (error instanceof DomainError || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
