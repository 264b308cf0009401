import { Module } from '@nestjs/common';
import { JobAdmissionLoaders } from './job-admission.loaders.js';
import { JobAdmissionResolver, StartAttemptResolver } from './job-admission.resolver.js';
import { JobLoaders } from './job.loaders.js';
import { JobsResolver } from './jobs.resolver.js';
import { JobsService } from './jobs.service.js';

@Module({
  providers: [JobsService, JobsResolver, JobLoaders, JobAdmissionLoaders, JobAdmissionResolver, StartAttemptResolver],
  exports: [JobsService, JobLoaders],
})
export class JobsModule {}
