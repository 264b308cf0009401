import { Injectable } from '@nestjs/common';

/**
 * "A job was queued or a net was freed": asks the pickup cycle to run now
 * instead of on its next tick. The pickup cron listens.
 *
 * Every such change is also announced by the database (NOTIFY) to the
 * instance that leads the dispatch, this one or another; while this
 * instance's events connection is up, a local `changed()` is left to that
 * notification, so one change costs one cycle, on the leader.
 */
@Injectable()
export class PickupSignal {
  private readonly listeners = new Set<() => void>();
  private readonly startTimeListeners = new Set<(time: Date) => void>();
  private notificationsLive = false;

  /** A change the database will also announce (job inserted or moved, scheduler freed). */
  changed(): void {
    if (!this.notificationsLive) this.request();
  }

  /** Run a cycle soon, whatever the notification channel does. */
  request(): void {
    for (const listener of this.listeners) listener();
  }

  /** A job was queued that may not start before `time`, or a hold ends then: run a cycle then (the pickup's wake-up). */
  startsAt(time: Date): void {
    for (const listener of this.startTimeListeners) listener(time);
  }

  onStartTime(listener: (time: Date) => void): () => void {
    this.startTimeListeners.add(listener);
    return () => this.startTimeListeners.delete(listener);
  }

  setNotificationsLive(live: boolean): void {
    this.notificationsLive = live;
  }

  onRequest(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
