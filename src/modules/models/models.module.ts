import { Module } from '@nestjs/common';
import { ModelsResolver } from './models.resolver.js';
import { ModelsService } from './models.service.js';

/** Projects, models and cohort queries. */
@Module({ providers: [ModelsService, ModelsResolver], exports: [ModelsService] })
export class ModelsModule {}
