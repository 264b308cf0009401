import { randomUUID } from 'node:crypto';
import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { badInput, conflict, DomainError, notFound } from '../../../common/errors.js';
import { queryOne, sql } from '../../../database/sql.js';
import { checkClients, policyFor, type BackendPolicy } from '../../../fl-backends/backend-policy.js';
import { NetClient, type ClientStatus, type NetRef } from '../../../fl-backends/net-client.js';
import { MetricsService } from '../../../observability/metrics.service.js';
import { currentRequestId } from '../../../observability/request-context.js';
import { JOB_COLUMNS, type JobRow } from '../../jobs/job.sql.js';
import { toClientRecords } from '../../nets/client-report.js';
import { recordClientStatuses } from '../../nets/net-client.sql.js';
import type { Claim, StartDetails } from '../../jobs/lifecycle/claim.js';
import { confirmStart, type ConfirmedStart } from '../../jobs/lifecycle/confirm-start.js';
import { JOB } from '../../jobs/lifecycle/fragments.js';
import { markSubmitting } from '../../jobs/lifecycle/mark-submitting.js';
import { JobStatus, StartPhase } from '../../jobs/lifecycle/states.js';
import { latestCohortQuery } from '../../models/cohort-query.sql.js';
import { retryOnDatabaseError } from './database-retry.js';
import { StartFailureService } from './start-failure.service.js';
import { confirmDeadline } from '../net-state/start-lease.js';
import { failureReason } from './start-outcome.js';

/**
 * A start that stopped before submit_job because a completion report ended
 * its job first: not a failure (nothing to clean up, no run was made) and
 * not a start.
 */
export class EndedBeforeSubmit extends DomainError {
  constructor(jobId: string) {
    super('CONFLICT', 'the job was ended by a completion report before it was submitted', { jobId });
  }
}

/**
 * Starting a claimed job on its net. HTTP calls happen
 * outside any transaction; every write after them compares-and-sets on the
 * claim token, so a stale instance cannot undo another's work.
 */
@Injectable()
export class TrainingService {
  private readonly logger = new Logger('Training');

  constructor(
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly failures: StartFailureService,
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
    if (row.status !== JobStatus.IN_PROGRESS || row.phase !== StartPhase.CLAIMED || row.claimToken === null) {
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
   * net is released (swept first if submit_job was sent), and the error is raised.
   * A completion that arrives while submit_job is on the way does not fail
   * the start: the job stays ended as reported and the start counts.
   */
  async prepareAndStartTraining(claim: Claim, trustIds: string[]): Promise<JobRow> {
    const { job, claimToken } = claim;
    const requestId = currentRequestId() ?? randomUUID();
    let submitting = false;
    let net: NetRef | undefined;
    try {
      const details = claim.details ?? (await this.loadStartDetails(job.id, trustIds));
      net = { name: details.netName, endpoint: details.endpoint };
      const slotNames = this.slotNamesOf(details);
      if (details.cohortQuery === null) throw notFound(`a cohort query for the project of model ${job.modelId}`);

      const policy = policyFor(details.flBackend);
      const reported = await this.nets.checkClientStatus(net, requestId);
      this.recordClients(job.netId, policy, reported);
      const clients = checkClients(policy, slotNames, reported);
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
      if (!submitting) {
        if (await this.endedByReport(job.id, claimToken)) throw new EndedBeforeSubmit(job.id);
        throw conflict('the job was removed or recovered while it was starting', { jobId: job.id });
      }
      const backendJobId = await this.nets.submitJob(net, job.modelId, requestId);
      const started = await this.confirmStart(job.id, claimToken, claim.schedulerId, backendJobId, deadline);
      if (!started) {
        this.logger.warn(`job ${job.id} ended while starting; aborting run ${backendJobId} on "${net.name}"`);
        await this.nets.abortJob(net, backendJobId, requestId).catch(() => undefined);
        throw conflict('the job was removed or recovered while it was starting', { jobId: job.id });
      }
      const { sweepNet, ...startedJob } = started;
      if (sweepNet) await this.failures.sweepAfterStart(claim, net);
      this.metrics.dispatches.inc({ backend: details.flBackend });
      this.metrics.startAttempts.inc({ outcome: 'STARTED' });
      this.logger.log(`start attempt: job ${job.id} on net "${net.name}": STARTED (run ${backendJobId})`);
      this.metrics.pickupLatency.observe((Date.now() - new Date(job.createdAt).getTime()) / 1000);
      return startedJob;
    } catch (error) {
      if (error instanceof EndedBeforeSubmit) {
        this.logger.log(`job ${job.id} was completed by a report before its submit; not started`);
        throw error;
      }
      this.metrics.startFailures.inc({ reason: failureReason(error) });
      await this.failures.failStart(claim, error, submitting, net);
      throw error;
    }
  }

  /** The start's client-status answer also updates what the hub knows of the net's clients: beside the start, not in its way. */
  private recordClients(netId: string | null, policy: BackendPolicy, reported: readonly ClientStatus[]): void {
    if (!netId) return;
    recordClientStatuses(this.em.fork(), netId, toClientRecords(policy, reported)).catch((error: unknown) =>
      this.logger.warn(`could not record the client status of net ${netId}: ${String(error)}`),
    );
  }

  /** The job as it is now in the database. */
  async currentJob(jobId: string): Promise<JobRow | undefined> {
    return queryOne<JobRow>(this.em.fork(), sql`select ${JOB_COLUMNS} from job j where j.id = ${jobId}`);
  }

  private async loadStartDetails(jobId: string, trustIds: string[]): Promise<StartDetails> {
    const details = await queryOne<StartDetails>(
      this.em.fork(),
      sql`select n.name as "netName", n.endpoint, n.fl_backend as "flBackend", m.project_id as "projectId",
            (select lc.query from ${latestCohortQuery('m.project_id', 'lc')}) as "cohortQuery",
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
    return retryOnDatabaseError(deadline, () => markSubmitting(this.em.fork(), jobId, claimToken));
  }

  /** After a lost compare-and-set: true when a completion report ended this claim's job (it is COMPLETED). */
  private async endedByReport(jobId: string, claimToken: string): Promise<boolean> {
    const row = await queryOne(
      this.em.fork(),
      sql`select 1 from job where id = ${jobId} and claim_token = ${claimToken} and status = ${JOB.COMPLETED}`,
    );
    return row !== undefined;
  }

  /**
   * Records the run id, drops the lease (the start is confirmed) and moves the
   * model to INITIATED (`confirmStart`). The run exists on the net now: losing this write would
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
  ): Promise<ConfirmedStart | undefined> {
    return retryOnDatabaseError(deadline, () =>
      confirmStart(this.em.fork(), { jobId, claimToken, schedulerId, backendJobId }, this.config.netLeaseMs),
    );
  }
}
