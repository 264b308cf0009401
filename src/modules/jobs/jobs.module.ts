import { Module } from '@nestjs/common';
import { JobLoaders } from './job.loaders.js';
import { JobsResolver } from './jobs.resolver.js';
import { JobsService } from './jobs.service.js';

@Module({ providers: [JobsService, JobsResolver, JobLoaders], exports: [JobsService, JobLoaders] })
export class JobsModule {}
