import { Module } from '@nestjs/common';
import { NetsResolver } from './nets.resolver.js';
import { NetsService } from './nets.service.js';

@Module({ providers: [NetsService, NetsResolver], exports: [NetsService] })
export class NetsModule {}
