import { Injectable } from '@nestjs/common';
import type { HubEvent } from './hub-events.js';

/**
 * What this instance knows, from the change notifications alone, about
 * whether a pickup cycle could dispatch anything: the nets that are free (not drained) and
 * the jobs that are queued (scheduler and job ids). A cycle is worth waking
 * only when both exist; the interval cycle remains the safety net if the view
 * is ever wrong. It is `live` only while this instance hears the stream.
 */
@Injectable()
export class DispatchView {
  private readonly freeNets = new Set<string>();
  private readonly queuedJobs = new Set<string>();
  private isLive = false;

  /** A snapshot taken after LISTEN: from now on every change arrives as an event. */
  reset(freeNetIds: readonly string[], queuedJobIds: readonly string[]): void {
    this.freeNets.clear();
    this.queuedJobs.clear();
    for (const id of freeNetIds) this.freeNets.add(id);
    for (const id of queuedJobIds) this.queuedJobs.add(id);
    this.isLive = true;
  }

  /** The stream stopped (lost, or no longer listened to): the view is not to be trusted until the next `reset`. */
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
   * net somebody is already claiming, or one more net for a job being claimed —
   * or, for a trust's or project's change, when a free net and a queued job
   * are both known (the job may have waited for that trust or project).
   */
  apply(event: HubEvent): boolean {
    // a trust's or project's limit, hold or share changed: a job that waited for it may start now
    if (event.kind === 'trust' || event.kind === 'project') return this.worthACycle();
    const before = this.pairs();
    const entries = event.kind === 'scheduler' ? this.freeNets : this.queuedJobs;
    // a drained net counts as free only once it is resumed (its drain change is announced as a scheduler change)
    const waiting = event.kind === 'scheduler' ? event.status === 'AVAILABLE' && !event.drained : event.status === 'QUEUED';
    if (waiting) entries.add(event.id);
    else entries.delete(event.id);
    return this.pairs() > before;
  }

  /** A free net and a queued job are both known. */
  worthACycle(): boolean {
    return this.freeNets.size > 0 && this.queuedJobs.size > 0;
  }

  private pairs(): number {
    return Math.min(this.freeNets.size, this.queuedJobs.size);
  }
}
