import { Injectable } from '@nestjs/common';

/**
 * "A job was queued or a net was freed": asks the pickup cycle to run now
 * instead of on its next tick. Modules that change the queue or the nets call
 * `request()`; the pickup cycle listens.
 */
@Injectable()
export class PickupSignal {
  private readonly listeners = new Set<() => void>();

  request(): void {
    for (const listener of this.listeners) listener();
  }

  onRequest(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
