import { Module } from '@nestjs/common';
import { FlBackendsModule } from '../../fl-backends/fl-backends.module.js';
import { ClientStatusRefresher } from './client-status.refresher.js';
import { NetLoaders } from './net.loaders.js';
import { NetsResolver } from './nets.resolver.js';
import { NetsService } from './nets.service.js';
import { TrustClientsResolver } from './trust-clients.resolver.js';

@Module({
  imports: [FlBackendsModule],
  providers: [NetsService, NetsResolver, NetLoaders, ClientStatusRefresher, TrustClientsResolver],
  exports: [NetsService, NetLoaders, ClientStatusRefresher],
})
export class NetsModule {}
