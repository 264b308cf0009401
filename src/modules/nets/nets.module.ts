import { Module } from '@nestjs/common';
import { FlBackendsModule } from '../../fl-backends/fl-backends.module.js';
import { ClientStatusRefresher } from './client-status.refresher.js';
import { NetsResolver } from './nets.resolver.js';
import { NetsService } from './nets.service.js';

@Module({
  imports: [FlBackendsModule],
  providers: [NetsService, NetsResolver, ClientStatusRefresher],
  exports: [NetsService, ClientStatusRefresher],
})
export class NetsModule {}
