import type { JobData, NetData, TrustData } from '../api/documents.js';
import { since, STATUS_WORDS } from '../format.js';

/** Nets with their state and current job. Version 2: a `drained` column and drain/resume actions go here. */
export function NetsPanel(props: { nets: NetData[]; noNets: boolean; jobs: ReadonlyMap<string, JobData>; now: number }) {
  if (props.noNets) {
    return (
      <p class="empty" data-empty="nets">
        No FL net is registered. Set <code>NET_ENDPOINTS</code>, or start the hub in development with <code>SIM_NETS</code>.
      </p>
    );
  }
  return (
    <table data-table="nets">
      <thead>
        <tr>
          <th>Net</th>
          <th>Backend</th>
          <th>State</th>
          <th>Current job</th>
          <th>Running for</th>
        </tr>
      </thead>
      <tbody>
        {props.nets.map((net) => {
          const jobId = net.scheduler.job?.id;
          const job = jobId ? props.jobs.get(jobId) : undefined;
          return (
            <tr key={net.id} data-net={net.name} data-state={net.scheduler.status}>
              <td data-col="name" title={net.endpoint}>
                {net.name}
                {net.simulated && (
                  <span class="badge simulated" title="started inside the hub for a first run (SIM_NETS)">
                    simulated
                  </span>
                )}
              </td>
              <td>{net.flBackend}</td>
              <td data-col="state">
                <span class={`badge net-${net.scheduler.status}`}>{STATUS_WORDS[net.scheduler.status]}</span>
              </td>
              <td data-col="job">{job ? `${job.model.name} (${job.model.project.name})` : jobId ? 'starting…' : '—'}</td>
              <td>{job ? since(job.startedAt, props.now) : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Trusts and their kit slots. Version 2: clients per net (online, last seen), holds and limits go here. */
export function TrustsPanel(props: { trusts: TrustData[] }) {
  if (props.trusts.length === 0) return <p class="empty">No trust yet (createTrust).</p>;
  return (
    <table data-table="trusts">
      <thead>
        <tr>
          <th>Trust</th>
          <th>Kit slot (FL client)</th>
        </tr>
      </thead>
      <tbody>
        {props.trusts.map((trust) => (
          <tr key={trust.id}>
            <td>{trust.name}</td>
            <td>{trust.slotName ?? 'none free'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface PendingAction {
  title: string;
  body: string;
  confirm: string;
  run(): Promise<void>;
}

/** Asks before anything destructive; the action runs only on "confirm". */
export function ConfirmDialog(props: { action: PendingAction; onClose(): void }) {
  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title">
        <h2 id="confirm-title">{props.action.title}</h2>
        <p>{props.action.body}</p>
        <div class="buttons">
          <button type="button" data-cancel onClick={() => props.onClose()}>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            data-confirm
            onClick={() => {
              props.onClose();
              void props.action.run();
            }}
          >
            {props.action.confirm}
          </button>
        </div>
      </div>
    </div>
  );
}
