import { Module } from '@nestjs/common';
import { SchedulersModule } from '../schedulers/schedulers.module.js';
import { JobsResolver } from './jobs.resolver.js';
import { JobsService } from './jobs.service.js';

@Module({ imports: [SchedulersModule], providers: [JobsService, JobsResolver], exports: [JobsService] })
export class JobsModule {}
