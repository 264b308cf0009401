import { Field, InputType, Int } from '@nestjs/graphql';
import { badInput } from '../../common/errors.js';
import { JobPriority } from './lifecycle/states.js';
import type { JobRequest } from './lifecycle/queue-job.js';

@InputType('QueueOptions')
export class QueueOptionsInput {
  @Field(() => JobPriority, { nullable: true, defaultValue: JobPriority.NORMAL })
  priority?: JobPriority | null;

  @Field(() => Date, { nullable: true, description: 'the job does not start before this time' })
  notBefore?: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: "the run is aborted when it has run this long; unset: the hub's MAX_RUNTIME_S (0 there: no limit)",
  })
  maxRuntimeSeconds?: number | null;
}

/** The earliest and latest start times accepted (PostgreSQL and JavaScript both hold them). */
const EARLIEST_YEAR = 1;
const LATEST_YEAR = 9999;

/**
 * `queueTraining(options)` as the job row stores it. BAD_USER_INPUT (nothing
 * written) for a run-time limit that is not a whole number ≥ 0 or a start
 * time outside years 1–9999; a start time in the past means "now".
 */
export function toJobRequest(options: QueueOptionsInput | null | undefined): JobRequest {
  const maxRuntimeS = options?.maxRuntimeSeconds ?? null;
  if (maxRuntimeS !== null && (!Number.isSafeInteger(maxRuntimeS) || maxRuntimeS < 0)) {
    throw badInput('options.maxRuntimeSeconds must be a whole number of seconds, at least 0 (0: no limit)', {
      field: 'options.maxRuntimeSeconds',
    });
  }
  const notBefore = options?.notBefore ?? null;
  if (notBefore !== null) {
    const year = notBefore instanceof Date ? notBefore.getUTCFullYear() : Number.NaN;
    if (!(year >= EARLIEST_YEAR && year <= LATEST_YEAR)) {
      throw badInput(`options.notBefore must be a time between the years ${EARLIEST_YEAR} and ${LATEST_YEAR}`, {
        field: 'options.notBefore',
      });
    }
  }
  return { priority: options?.priority ?? JobPriority.NORMAL, notBefore, maxRuntimeS };
}
