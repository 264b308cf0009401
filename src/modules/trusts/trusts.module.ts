import { Module } from '@nestjs/common';
import { TrustLoaders } from './trust.loaders.js';
import { TrustsResolver } from './trusts.resolver.js';
import { TrustsService } from './trusts.service.js';

@Module({ providers: [TrustsService, TrustsResolver, TrustLoaders], exports: [TrustsService, TrustLoaders] })
export class TrustsModule {}
