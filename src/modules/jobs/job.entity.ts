import { Collection, type Opt, type Rel } from '@mikro-orm/core';
import { Check, Entity, Enum, Index, ManyToMany, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { ModelEntity } from '../models/model.entity.js';
import { ProjectEntity } from '../models/project.entity.js';
import { NetEntity } from '../nets/net.entity.js';
import { TrustEntity } from '../trusts/trust.entity.js';
import { JobTrustEntity } from './job-trust.entity.js';
import { literal, oneOfText } from './lifecycle/fragments.js';
import { EndReason, JobPriority, JobStatus, StartPhase } from './lifecycle/states.js';
import { LIVE_JOB_STATUSES } from './lifecycle/transitions.js';

export { EndReason, JobPriority, JobStatus, StartPhase };

const [QUEUED, IN_PROGRESS, COMPLETED, DELETED] = [
  JobStatus.QUEUED,
  JobStatus.IN_PROGRESS,
  JobStatus.COMPLETED,
  JobStatus.DELETED,
].map(literal);
const LIVE = oneOfText(LIVE_JOB_STATUSES);

@Entity({ tableName: 'job' })
@Check({
  name: 'job_in_progress_check',
  expression: `status <> ${IN_PROGRESS} or (net_id is not null and started_at is not null and claim_token is not null and start_phase is not null)`,
})
@Check({
  name: 'job_queued_check',
  expression: `status <> ${QUEUED} or (net_id is null and started_at is null and completed_at is null)`,
})
@Check({ name: 'job_completed_check', expression: `status <> ${COMPLETED} or completed_at is not null` })
@Check({ name: 'job_end_reason_deleted_check', expression: `end_reason is null or status = ${DELETED}` })
@Unique({ name: 'job_id_net_unique', properties: ['id', 'net'] })
@Unique({ name: 'job_one_in_progress_per_net', properties: ['net'], where: `status = ${IN_PROGRESS}` })
/** one live job per model: completions, stops and status reports are keyed by model */
@Unique({ name: 'job_one_live_per_model', properties: ['model'], where: `status in ${LIVE}` })
@Index({ name: 'job_queue_idx', properties: ['seq'], where: `status = ${QUEUED}` })
@Index({ name: 'job_retry_at_idx', properties: ['retryAt'], where: `status = ${QUEUED} and retry_at is not null` })
@Index({ name: 'job_status_seq_idx', properties: ['status', 'seq'] })
@Index({ name: 'job_model_idx', properties: ['model', 'seq'] })
/** each project's queue by priority lane, oldest first: the claim's heads (SPEC.md "Order") */
@Index({ name: 'job_project_queue_idx', properties: ['project', 'priority', 'seq'], where: `status = ${QUEUED}` })
/** each priority class's queue across projects, oldest first: the fair claim's bounds of the projects running nothing */
@Index({ name: 'job_class_queue_idx', properties: ['priority', 'seq'], where: `status = ${QUEUED}` })
export class JobEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  /** Queue order (FIFO), assigned by the database. */
  @Property({ type: 'bigint', generated: 'identity', autoincrement: true, unique: 'job_seq_unique' })
  seq!: string & Opt;

  @ManyToOne(() => ModelEntity, { foreignKeyName: 'job_model_id_fkey' })
  model!: Rel<ModelEntity>;

  /** The model's project, kept on the job for the claim's order (set on insert by the `job_project` trigger). */
  @ManyToOne(() => ProjectEntity, { foreignKeyName: 'job_project_id_fkey', updateRule: 'cascade', deleteRule: 'no action' })
  project!: Rel<ProjectEntity> & Opt;

  @Enum({ items: () => JobStatus })
  status: JobStatus & Opt = JobStatus.QUEUED;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  createdAt!: Date & Opt;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  completedAt?: Date | null;

  @ManyToOne(() => NetEntity, { nullable: true, deleteRule: 'no action', foreignKeyName: 'job_net_id_fkey' })
  net?: Rel<NetEntity> | null;

  @Property({ length: 200, nullable: true })
  backendJobId?: string | null;

  @Property({ type: 'integer', default: 0, check: 'attempts >= 0' })
  attempts: number & Opt = 0;

  @Property({ type: 'uuid', nullable: true })
  claimToken?: string | null;

  @Enum({ items: () => StartPhase, nullable: true })
  startPhase?: StartPhase | null;

  /** the hub instance (its `application_name`) that claimed the job last */
  @Property({ length: 63, nullable: true })
  claimedBy?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  missingSince?: Date | null;

  @Enum({ items: () => JobPriority, default: JobPriority.NORMAL })
  priority: JobPriority & Opt = JobPriority.NORMAL;

  /** the researcher's start time: the job does not start before it */
  @Property({ type: 'timestamptz', nullable: true })
  notBefore?: Date | null;

  /** the run is aborted past this many seconds; null: the hub's MAX_RUNTIME_S */
  @Property({ type: 'integer', nullable: true, check: 'max_runtime_s >= 0', fieldName: 'max_runtime_s' })
  maxRuntimeS?: number | null;

  @Enum({ items: () => EndReason, nullable: true })
  endReason?: EndReason | null;

  /** a job back in the queue after a try (a failed start, offline clients) is not claimed before this */
  @Property({ type: 'timestamptz', nullable: true })
  retryAt?: Date | null;

  /** the waits so far: each doubles the backoff (ADMISSION_BACKOFF_MS up to ADMISSION_BACKOFF_MAX_MS) */
  @Property({ type: 'integer', default: 0, check: 'backoffs >= 0' })
  backoffs: number & Opt = 0;

  /** starts that failed before the run existed; MAX_START_ATTEMPTS of them remove the job */
  @Property({ type: 'integer', default: 0, check: 'failed_starts >= 0' })
  failedStarts: number & Opt = 0;

  /** since when the job waits for offline clients (ADMISSION_MAX_WAIT_MS) */
  @Property({ type: 'timestamptz', nullable: true })
  offlineSince?: Date | null;

  @ManyToMany({ entity: () => TrustEntity, pivotEntity: () => JobTrustEntity })
  trusts = new Collection<TrustEntity>(this);
}
