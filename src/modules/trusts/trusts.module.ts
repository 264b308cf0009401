import { Module } from '@nestjs/common';
import { TrustsResolver } from './trusts.resolver.js';
import { TrustsService } from './trusts.service.js';

@Module({ providers: [TrustsService, TrustsResolver], exports: [TrustsService] })
export class TrustsModule {}
