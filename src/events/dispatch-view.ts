import type { HubEvent } from './hub-events.js';

/**
 * What this instance knows, from the change notifications alone, about
 * whether a pickup cycle could dispatch anything: the nets that are free and
 * the jobs that are queued. A cycle is worth waking only when both exist; the
 * interval cycle remains the safety net if the view is ever wrong.
 */
export class DispatchView {
  private readonly freeNets = new Set<string>();
  private readonly queuedJobs = new Set<string>();

  reset(freeNetIds: readonly string[], queuedJobIds: readonly string[]): void {
    this.freeNets.clear();
    this.queuedJobs.clear();
    for (const id of freeNetIds) this.freeNets.add(id);
    for (const id of queuedJobIds) this.queuedJobs.add(id);
  }

  /** Applies a change; true when it could make a cycle dispatch something (a net freed, a job queued). */
  apply(event: HubEvent): boolean {
    if (event.kind === 'scheduler') {
      if (event.status !== 'AVAILABLE') {
        this.freeNets.delete(event.id);
        return false;
      }
      const wasFree = this.freeNets.has(event.id);
      this.freeNets.add(event.id);
      return !wasFree;
    }
    if (event.status !== 'QUEUED') {
      this.queuedJobs.delete(event.id);
      return false;
    }
    const wasQueued = this.queuedJobs.has(event.id);
    this.queuedJobs.add(event.id);
    return !wasQueued;
  }

  /** A free net and a queued job are both known. */
  worthACycle(): boolean {
    return this.freeNets.size > 0 && this.queuedJobs.size > 0;
  }
}
