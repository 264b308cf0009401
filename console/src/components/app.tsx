import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GqlError } from '../api/client.js';
import { decodeToken, permissionsOf } from '../auth.js';
import { clock } from '../format.js';
import { LiveConsole } from '../live.js';
import { queue, recentEnds, running } from '../state/store.js';
import { LatencyChart, PoolCharts } from './charts.js';
import { ENDED_COLUMNS, QUEUE_COLUMNS, RUNNING_COLUMNS, type RowContext } from './job-columns.js';
import { JobTable } from './job-table.js';
import { pageActions } from './actions.js';
import { ConfirmDialog, type PendingAction } from './dialog.js';
import { NetsPanel } from './nets-panel.js';
import { ProjectsPanel } from './projects-panel.js';
import { TrustsPanel } from './trusts-panel.js';

const useNow = (everyMs: number): number => {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
};

export function App(props: { token: string; onSignOut(reason?: string): void }) {
  const identity = useMemo(() => decodeToken(props.token), [props.token]);
  const permissions = permissionsOf(identity?.roles ?? []);
  const [errors, setErrors] = useState<string[]>([]);
  const [pending, setPending] = useState<PendingAction | null>(null);
  const [, setVersion] = useState(0);
  const now = useNow(1000);

  const report = (what: string) => (error: GqlError) => setErrors((list) => [...list.slice(-4), `${what}: ${error.words}`]);
  const live = useMemo(
    () => new LiveConsole(props.token, (reason) => props.onSignOut(reason), report('The live view')),
    [props.token],
  );
  useEffect(() => {
    const unsubscribe = live.subscribe(() => setVersion((v) => v + 1));
    return () => {
      unsubscribe();
      live.close();
    };
  }, [live]);

  const actions = pageActions(live, permissions, setPending, report);
  const ctx: RowContext = { now, ...actions.jobs };

  const state = live.state;
  const deployment = state.deployment;
  return (
    <div class="console" data-loaded={live.loaded ? 'yes' : 'no'}>
      <header>
        <h1>fl-scheduler</h1>
        <span class={`badge connection-${live.connection}`} data-connection={live.connection}>
          {live.connection === 'live' ? 'live' : live.connection === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
        {deployment && (
          <span
            class={`badge ${deployment.enabled ? 'deploying' : 'dispatching'}`}
            data-deployment={deployment.enabled ? 'on' : 'off'}
          >
            {deployment.enabled
              ? `deployment mode since ${clock(deployment.since)}: ${deployment.busyNets} net(s) still busy`
              : 'dispatching'}
          </span>
        )}
        {deployment && permissions.deploymentMode && (
          <button type="button" data-action="deployment" onClick={() => actions.setDeploymentMode(!deployment.enabled)}>
            {deployment.enabled ? 'Leave deployment mode' : 'Enter deployment mode'}
          </button>
        )}
        <span class="who" data-roles={(identity?.roles ?? []).join(' ')}>
          {identity?.subject ?? 'unknown'} · {(identity?.roles ?? []).join(', ') || 'no role'}
        </span>
        <button type="button" onClick={() => props.onSignOut()}>
          Sign out
        </button>
      </header>
      {errors.length > 0 && (
        <div class="errors" role="alert">
          {errors.map((text, i) => (
            <p key={i}>{text}</p>
          ))}
          <button type="button" onClick={() => setErrors([])}>
            Dismiss
          </button>
        </div>
      )}
      <main>
        <section>
          <h2>Nets</h2>
          <NetsPanel nets={state.nets} noNets={state.noNets} jobs={state.jobs} now={now} actions={actions.nets} />
        </section>
        <section>
          <PoolCharts samples={live.history.all()} netCount={state.nets.length} />
        </section>
        <section>
          <h2>Queue, in dispatch order</h2>
          <JobTable id="queue" jobs={queue(state)} columns={QUEUE_COLUMNS} ctx={ctx} empty="Nothing is queued." />
        </section>
        <section>
          <h2>Running</h2>
          <JobTable id="running" jobs={running(state)} columns={RUNNING_COLUMNS} ctx={ctx} empty="Nothing is running." />
        </section>
        <section>
          <h2>Recent ends</h2>
          <JobTable id="ended" jobs={recentEnds(state)} columns={ENDED_COLUMNS} ctx={ctx} empty="No job has ended yet." />
        </section>
        <section>
          <h2>Trusts</h2>
          <TrustsPanel trusts={state.trusts} actions={actions.trusts} />
        </section>
        <section>
          <h2>Projects</h2>
          <ProjectsPanel projects={state.projects} actions={actions.projects} />
        </section>
        <section>
          <LatencyChart jobs={state.jobs.values()} />
        </section>
      </main>
      {pending && <ConfirmDialog key={pending.title} action={pending} onClose={() => setPending(null)} />}
    </div>
  );
}
