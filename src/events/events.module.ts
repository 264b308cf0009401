import { Global, Module } from '@nestjs/common';
import { DispatchView } from './dispatch-view.js';
import { EventsListener } from './events.listener.js';
import { LiveUpdates } from './live-updates.js';

@Global()
@Module({ providers: [DispatchView, EventsListener, LiveUpdates], exports: [DispatchView, EventsListener, LiveUpdates] })
export class EventsModule {}
