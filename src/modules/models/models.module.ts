import { Module } from '@nestjs/common';
import { ModelLoaders } from './model.loaders.js';
import { ModelsResolver } from './models.resolver.js';
import { ModelsService } from './models.service.js';

/** Projects, models and cohort queries. */
@Module({ providers: [ModelsService, ModelsResolver, ModelLoaders], exports: [ModelsService, ModelLoaders] })
export class ModelsModule {}
