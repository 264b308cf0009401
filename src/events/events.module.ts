import { Global, Module } from '@nestjs/common';
import { EventsListener } from './events.listener.js';
import { LiveUpdates } from './live-updates.js';

@Global()
@Module({ providers: [EventsListener, LiveUpdates], exports: [EventsListener, LiveUpdates] })
export class EventsModule {}
