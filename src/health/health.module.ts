import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { FlBackendsModule } from '../fl-backends/fl-backends.module.js';
import { HealthController } from './health.controller.js';

/** `GET /health`: the database, each net's reachability and this instance's part in the dispatch. */
@Module({ imports: [TerminusModule.forRoot({ logger: false }), FlBackendsModule], controllers: [HealthController] })
export class HealthModule {}
