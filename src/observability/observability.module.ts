import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { FlBackendsModule } from '../fl-backends/fl-backends.module.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), FlBackendsModule],
  controllers: [HealthController, MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class ObservabilityModule {}
