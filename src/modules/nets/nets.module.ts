import { Module } from '@nestjs/common';
import { NetLoaders } from './net.loaders.js';
import { NetsResolver } from './nets.resolver.js';
import { NetsService } from './nets.service.js';

@Module({ providers: [NetsService, NetsResolver, NetLoaders], exports: [NetsService, NetLoaders] })
export class NetsModule {}
