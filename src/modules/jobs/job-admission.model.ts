import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { NetModel } from '../nets/net.model.js';
import { EndReason } from './job.entity.js';

/** Why a QUEUED job is not running yet (from the claim's own predicates: `admission.sql.ts`). */
export enum PendingReason {
  WAITING_FOR_NET = 'WAITING_FOR_NET',
  CLIENTS_OFFLINE = 'CLIENTS_OFFLINE',
  RETRY_BACKOFF = 'RETRY_BACKOFF',
  TRUST_AT_CAPACITY = 'TRUST_AT_CAPACITY',
  PROJECT_AT_CAPACITY = 'PROJECT_AT_CAPACITY',
  TRUST_HELD = 'TRUST_HELD',
  NO_NET = 'NO_NET',
  NOT_BEFORE = 'NOT_BEFORE',
  DEPLOYMENT_MODE = 'DEPLOYMENT_MODE',
}

registerEnumType(PendingReason, {
  name: 'PendingReason',
  description: 'why a QUEUED job is not running yet',
  valuesMap: {
    WAITING_FOR_NET: { description: 'it can start: it waits for a free net' },
    CLIENTS_OFFLINE: {
      description: "a trust's client is offline on every net the job could use; it is tried again after a backoff",
    },
    RETRY_BACKOFF: {
      description: 'the last start failed before the run existed (net error, timeout); it is tried again after a backoff',
    },
    TRUST_AT_CAPACITY: { description: 'one of its trusts already runs its maximum of concurrent jobs' },
    PROJECT_AT_CAPACITY: { description: 'its project already runs its maximum of concurrent jobs' },
    TRUST_HELD: { description: 'one of its trusts is on hold' },
    NO_NET: { description: 'every net is drained (or none is registered)' },
    NOT_BEFORE: { description: 'queued with a start time that has not come yet' },
    DEPLOYMENT_MODE: { description: 'the hub is in deployment mode' },
  },
});

registerEnumType(EndReason, {
  name: 'EndReason',
  description: 'why a job left the queue or its net without COMPLETED',
  valuesMap: {
    REMOVED: { description: 'removed by removeJob / removeJobsForModel' },
    STOPPED: { description: 'ended by stopTraining' },
    UNAPPROVED_TRUST: { description: 'it names a trust that is not approved for its model' },
    START_FAILED: { description: 'every allowed start attempt failed (MAX_START_ATTEMPTS)' },
    ADMISSION_TIMEOUT: { description: 'its clients stayed offline longer than ADMISSION_MAX_WAIT_MS' },
    TIMED_OUT: { description: 'it ran longer than its maxRuntimeSeconds and was aborted on its net' },
    RUN_FAILED: { description: 'the net reported the run FAILED, STOPPED, or lost it' },
  },
});

@ObjectType('StartAttempt', { description: 'one try to start a job, oldest first' })
export class StartAttemptModel {
  @Field(() => Date)
  at!: Date;

  @Field(() => NetModel, { nullable: true })
  net!: NetModel | null;

  @Field(() => String, { description: 'STARTED, CLIENTS_OFFLINE, NET_ERROR or REJECTED (a 4xx answer: not retried)' })
  outcome!: string;

  @Field(() => String, { nullable: true, description: 'what the net said or which clients were offline' })
  detail!: string | null;

  jobId!: string;
  netId!: string | null;
}
