import type { JobData } from '../api/documents.js';
import type { JobColumn, RowContext } from './job-columns.js';

export function JobTable(props: { id: string; jobs: JobData[]; columns: JobColumn[]; ctx: RowContext; empty: string }) {
  const columns = props.columns.filter((c) => c.key !== 'actions' || props.ctx.permissions.controlJobs);
  if (props.jobs.length === 0)
    return (
      <p class="empty" data-empty={props.id}>
        {props.empty}
      </p>
    );
  return (
    <table data-table={props.id}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.key}>{c.title}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((job) => (
          <tr key={job.id} data-job-id={job.id} data-status={job.status}>
            {columns.map((c) => (
              <td key={c.key} data-col={c.key}>
                {c.render(job, props.ctx)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
