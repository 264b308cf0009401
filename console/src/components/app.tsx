import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GqlError } from '../api/client.js';
import * as docs from '../api/documents.js';
import type { DeploymentData, JobData, NetData } from '../api/documents.js';
import { decodeToken, permissionsOf } from '../auth.js';
import { clock } from '../format.js';
import { LiveConsole } from '../live.js';
import { queue, recentEnds, running } from '../state/store.js';
import { LatencyChart, PoolCharts } from './charts.js';
import { ENDED_COLUMNS, QUEUE_COLUMNS, RUNNING_COLUMNS, type RowContext } from './job-columns.js';
import { JobTable } from './job-table.js';
import { ConfirmDialog, NetsPanel, TrustsPanel, type NetActions, type PendingAction } from './panels.js';

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

  const act = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      report(what)(error as GqlError);
    }
  };
  const ctx: RowContext = {
    now,
    permissions,
    stop: (job: JobData) =>
      setPending({
        title: `Stop ${job.model.name}?`,
        body: `The run on ${job.net?.name ?? 'its net'} is aborted and the model set to STOPPED. This cannot be undone.`,
        confirm: 'Stop the training',
        run: () => act(`Could not stop ${job.model.name}`, () => live.request(docs.STOP_TRAINING, { modelId: job.model.id })),
      }),
    remove: (job: JobData) =>
      setPending({
        title: `Remove ${job.model.name} from the queue?`,
        body: `The job (queue position ${job.queuePosition ?? '—'}) is set to DELETED and will not run.`,
        confirm: 'Remove the job',
        run: () => act(`Could not remove ${job.model.name}`, () => live.request(docs.REMOVE_JOB, { id: job.id })),
      }),
  };
  const setDrained = (net: NetData, drained: boolean) =>
    act(`Could not ${drained ? 'drain' : 'resume'} ${net.name}`, async () => {
      const answer = await live.request<Record<string, { id: string; drained: boolean }>>(
        drained ? docs.DRAIN_NET : docs.RESUME_NET,
        { netId: net.id },
      );
      const changed = answer[drained ? 'drainNet' : 'resumeNet'];
      if (changed) live.setDrained(changed.id, changed.drained);
    });
  const netActions: NetActions = {
    allowed: permissions.manageNets,
    drain: (net) =>
      setPending({
        title: `Drain ${net.name}?`,
        body: `${net.name} finishes the run it has, then takes no new job until it is resumed.`,
        confirm: 'Drain the net',
        run: () => setDrained(net, true),
      }),
    resume: (net) => void setDrained(net, false),
  };
  const setDeploymentMode = (enabled: boolean) => {
    const run = () =>
      act('Could not change the deployment mode', async () => {
        const { setDeploymentMode: status } = await live.request<{ setDeploymentMode: DeploymentData }>(
          docs.SET_DEPLOYMENT_MODE,
          {
            enabled,
          },
        );
        live.setDeployment(status);
      });
    if (!enabled) return void run();
    setPending({
      title: 'Enter deployment mode?',
      body: 'Running jobs finish; no queued job starts until deployment mode is turned off.',
      confirm: 'Enter deployment mode',
      run,
    });
  };

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
          <button type="button" data-action="deployment" onClick={() => setDeploymentMode(!deployment.enabled)}>
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
          <NetsPanel nets={state.nets} noNets={state.noNets} jobs={state.jobs} now={now} actions={netActions} />
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
        <section class="split">
          <div>
            <h2>Trusts</h2>
            <TrustsPanel trusts={state.trusts} />
          </div>
          <div>
            <LatencyChart jobs={state.jobs.values()} />
          </div>
        </section>
      </main>
      {pending && <ConfirmDialog action={pending} onClose={() => setPending(null)} />}
    </div>
  );
}
