import { Injectable } from '@nestjs/common';
import type { HubEvent } from './hub-events.js';

/**
 * What this instance knows, from the change notifications alone, about
 * whether a pickup cycle could dispatch anything: the nets that are free and
 * the jobs that are queued (scheduler and job ids). A cycle is worth waking
 * only when both exist; the interval cycle remains the safety net if the view
 * is ever wrong. It is `live` only while the notifications flow.
 *
 * Each free net and queued job remembers when (a change counter) it became
 * so; Map order is that order, so the oldest of each is the first entry.
 */
@Injectable()
export class DispatchView {
  private readonly freeNets = new Map<string, number>();
  private readonly queuedJobs = new Map<string, number>();
  private changes = 0;
  private isLive = false;

  /** A snapshot taken after LISTEN: from now on every change arrives as an event. */
  reset(freeNetIds: readonly string[], queuedJobIds: readonly string[]): void {
    this.freeNets.clear();
    this.queuedJobs.clear();
    this.changes++;
    for (const id of freeNetIds) this.freeNets.set(id, this.changes);
    for (const id of queuedJobIds) this.queuedJobs.set(id, this.changes);
    this.isLive = true;
  }

  /** The notifications stopped: the view is not to be trusted until the next `reset`. */
  lost(): void {
    this.isLive = false;
  }

  get live(): boolean {
    return this.isLive;
  }

  /**
   * This instance just claimed these nets and jobs (committed): no need to
   * wait for the notifications to know they are taken.
   */
  claimed(schedulerIds: readonly string[], jobIds: readonly string[]): void {
    for (const id of schedulerIds) this.freeNets.delete(id);
    for (const id of jobIds) this.queuedJobs.delete(id);
  }

  /**
   * Applies a change; true when it raises the number of (free net, queued
   * job) pairs — a new dispatch opportunity, rather than one more job for a
   * net somebody is already claiming, or one more net for a job being claimed.
   */
  apply(event: HubEvent): boolean {
    const before = this.pairs();
    this.changes++;
    const entries = event.kind === 'scheduler' ? this.freeNets : this.queuedJobs;
    const waiting = event.kind === 'scheduler' ? event.status === 'AVAILABLE' : event.status === 'QUEUED';
    if (!waiting) entries.delete(event.id);
    else if (!entries.has(event.id)) entries.set(event.id, this.changes);
    return this.pairs() > before;
  }

  /** A mark of "now", for `idleSince`. */
  stamp(): number {
    return this.changes;
  }

  /**
   * A net has been free and a job queued, both without a break, since the
   * stamp: nobody dispatched them in all that time.
   */
  idleSince(stamp: number): boolean {
    const oldest = (entries: Map<string, number>) => entries.values().next().value;
    const net = oldest(this.freeNets);
    const job = oldest(this.queuedJobs);
    return net !== undefined && job !== undefined && net <= stamp && job <= stamp;
  }

  private pairs(): number {
    return Math.min(this.freeNets.size, this.queuedJobs.size);
  }

  /** A free net and a queued job are both known. */
  worthACycle(): boolean {
    return this.freeNets.size > 0 && this.queuedJobs.size > 0;
  }
}
