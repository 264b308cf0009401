import type { JobData, NetData } from '../api/documents.js';
import { since, STATUS_WORDS } from '../format.js';

/** What the nets panel may offer: drain and resume for a token that may manage nets, else nothing. */
export interface NetActions {
  allowed: boolean;
  drain(net: NetData): void;
  resume(net: NetData): void;
}

/** Nets with their state, current job and whether they take new jobs; drain/resume for an admin. */
export function NetsPanel(props: {
  nets: NetData[];
  noNets: boolean;
  jobs: ReadonlyMap<string, JobData>;
  now: number;
  actions: NetActions;
}) {
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
          <th>New jobs</th>
          {props.actions.allowed && <th />}
        </tr>
      </thead>
      <tbody>
        {props.nets.map((net) => {
          const jobId = net.scheduler.job?.id;
          const job = jobId ? props.jobs.get(jobId) : undefined;
          return (
            <tr key={net.id} data-net={net.name} data-state={net.scheduler.status} data-drained={net.drained ? 'yes' : 'no'}>
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
              <td data-col="drained">
                {net.drained ? (
                  <span class="badge drained" title="drainNet: it finishes its run and takes no new job">
                    drained
                  </span>
                ) : (
                  'taken'
                )}
              </td>
              {props.actions.allowed && (
                <td>
                  {net.drained ? (
                    <button type="button" data-action="resume" onClick={() => props.actions.resume(net)}>
                      Resume
                    </button>
                  ) : (
                    <button type="button" class="danger" data-action="drain" onClick={() => props.actions.drain(net)}>
                      Drain
                    </button>
                  )}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
