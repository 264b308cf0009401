import { Module } from '@nestjs/common';
import { NetClient } from './net-client.js';

@Module({ providers: [NetClient], exports: [NetClient] })
export class FlBackendsModule {}
