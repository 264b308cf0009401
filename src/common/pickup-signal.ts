import { Injectable } from '@nestjs/common';

/**
 * "A job was queued or a net was freed": asks the pickup cycle to run now
 * instead of on its next tick. The pickup cron listens.
 *
 * Every such change is also announced by the database (LISTEN/NOTIFY) to
 * every instance, this one included; while that channel is live, a local
 * `changed()` is left to the notification, so one change costs one cycle.
 */
/**
 * Which free nets a requested cycle should claim: only these (ids of
 * schedulers this instance has just freed — other instances claim their
 * own), or every free net (null).
 */
export type ClaimScope = ReadonlySet<string> | null;

@Injectable()
export class PickupSignal {
  private readonly listeners = new Set<(scope: ClaimScope) => void>();
  private notificationsLive = false;

  /** A change the database will also announce (job inserted or moved, scheduler freed). */
  changed(): void {
    if (!this.notificationsLive) this.request();
  }

  /** Run a cycle soon, whatever the notification channel does. */
  request(scope: ClaimScope = null): void {
    for (const listener of this.listeners) listener(scope);
  }

  setNotificationsLive(live: boolean): void {
    this.notificationsLive = live;
  }

  onRequest(listener: (scope: ClaimScope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
