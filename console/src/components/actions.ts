import * as docs from '../api/documents.js';
import type { DeploymentData, JobData, JobPriority, NetData, ProjectData, TrustData } from '../api/documents.js';
import type { GqlError } from '../api/client.js';
import type { Permissions } from '../auth.js';
import type { LiveConsole } from '../live.js';
import { limitValue, timeValue } from '../format.js';
import type { PendingAction } from './dialog.js';
import type { RowContext } from './job-columns.js';
import type { NetActions } from './nets-panel.js';
import type { ProjectActions } from './projects-panel.js';
import type { TrustActions } from './trusts-panel.js';

export interface PageActions {
  jobs: Omit<RowContext, 'now'>;
  nets: NetActions;
  trusts: TrustActions;
  projects: ProjectActions;
  setDeploymentMode(enabled: boolean): void;
}

/**
 * What the page's controls do: each sends one mutation, takes its answer into
 * the live picture at once (its event follows), and shows a refusal in words;
 * destructive ones, and the ones that need a value, go through a dialog first.
 */
export function pageActions(
  live: LiveConsole,
  permissions: Permissions,
  ask: (action: PendingAction) => void,
  report: (what: string) => (error: GqlError) => void,
): PageActions {
  const act = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      report(what)(error as GqlError);
    }
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

  const trustMutation = (what: string, query: string, field: string, variables: Record<string, unknown>) =>
    act(what, async () => {
      const answer = await live.request<Record<string, TrustData>>(query, variables);
      const trust = answer[field];
      if (trust) live.setTrust(trust);
    });

  const runDeploymentMode = (enabled: boolean) =>
    act('Could not change the deployment mode', async () => {
      const { setDeploymentMode: status } = await live.request<{ setDeploymentMode: DeploymentData }>(docs.SET_DEPLOYMENT_MODE, {
        enabled,
      });
      live.setDeployment(status);
    });

  return {
    jobs: {
      permissions,
      stop: (job: JobData) =>
        ask({
          title: `Stop ${job.model.name}?`,
          body: `The run on ${job.net?.name ?? 'its net'} is aborted and the model set to STOPPED. This cannot be undone.`,
          confirm: 'Stop the training',
          run: () => act(`Could not stop ${job.model.name}`, () => live.request(docs.STOP_TRAINING, { modelId: job.model.id })),
        }),
      remove: (job: JobData) =>
        ask({
          title: `Remove ${job.model.name} from the queue?`,
          body: `The job (queue position ${job.queuePosition ?? '—'}) is set to DELETED and will not run.`,
          confirm: 'Remove the job',
          run: () => act(`Could not remove ${job.model.name}`, () => live.request(docs.REMOVE_JOB, { id: job.id })),
        }),
      setPriority: (job: JobData, priority: JobPriority) =>
        void act(`Could not change the priority of ${job.model.name}`, async () => {
          const { setJobPriority } = await live.request<{ setJobPriority: JobData }>(docs.SET_JOB_PRIORITY, {
            jobId: job.id,
            priority,
          });
          live.setJob(setJobPriority);
        }),
    },

    nets: {
      allowed: permissions.manageNets,
      drain: (net) =>
        ask({
          title: `Drain ${net.name}?`,
          body: `${net.name} finishes the run it has, then takes no new job until it is resumed.`,
          confirm: 'Drain the net',
          run: () => setDrained(net, true),
        }),
      resume: (net) => void setDrained(net, false),
    },

    trusts: {
      allowed: permissions.manageTrusts,
      hold: (trust) =>
        ask({
          title: `Hold ${trust.name}?`,
          body: `No queued job naming ${trust.name} starts until the hold ends; its running jobs go on.`,
          confirm: 'Hold the trust',
          fields: [
            { name: 'until', label: 'Until (optional)', type: 'datetime-local', value: '', hint: 'empty: until released' },
          ],
          check: ({ until = '' }) => {
            const at = timeValue(until);
            if (at === undefined) return 'That is not a time.';
            if (at && Date.parse(at) <= Date.now()) return 'That time has passed.';
            return null;
          },
          run: ({ until = '' }) =>
            trustMutation(`Could not hold ${trust.name}`, docs.HOLD_TRUST, 'holdTrust', {
              trustId: trust.id,
              until: timeValue(until) ?? null,
            }),
        }),
      release: (trust) =>
        void trustMutation(`Could not release ${trust.name}`, docs.RELEASE_TRUST, 'releaseTrust', { trustId: trust.id }),
      setLimit: (trust) =>
        ask({
          title: `Limit of ${trust.name}`,
          body: `At most this many jobs naming ${trust.name} run at once, across all nets.`,
          confirm: 'Set the limit',
          tone: 'plain',
          fields: [
            {
              name: 'limit',
              label: 'Concurrent jobs',
              type: 'number',
              min: 0,
              value: trust.maxConcurrentJobs === null ? '' : String(trust.maxConcurrentJobs),
              hint: 'empty: no limit',
            },
          ],
          check: ({ limit = '' }) => (limitValue(limit) === undefined ? 'The limit is a whole number, or empty for none.' : null),
          run: ({ limit = '' }) =>
            trustMutation(`Could not set the limit of ${trust.name}`, docs.SET_TRUST_LIMIT, 'setTrustLimit', {
              trustId: trust.id,
              maxConcurrentJobs: limitValue(limit) ?? null,
            }),
        }),
    },

    projects: {
      allowed: permissions.manageProjects,
      edit: (project: ProjectData) =>
        ask({
          title: `Share and limit of ${project.name}`,
          body: 'The share weighs its turn against other projects; the limit caps its jobs running at once.',
          confirm: 'Save',
          tone: 'plain',
          fields: [
            {
              name: 'share',
              label: 'Share',
              type: 'number',
              min: 1,
              value: String(project.share),
              hint: 'a whole number, 1 or more',
            },
            {
              name: 'limit',
              label: 'Concurrent jobs',
              type: 'number',
              min: 0,
              value: project.maxConcurrentJobs === null ? '' : String(project.maxConcurrentJobs),
              hint: 'empty: no limit',
            },
          ],
          check: ({ share = '', limit = '' }) => {
            const weight = limitValue(share, 1);
            if (weight === undefined || weight === null) return 'The share is a whole number, 1 or more.';
            return limitValue(limit) === undefined ? 'The limit is a whole number, or empty for none.' : null;
          },
          run: ({ share = '', limit = '' }) =>
            act(`Could not change ${project.name}`, async () => {
              const { setProjectLimits } = await live.request<{ setProjectLimits: ProjectData }>(docs.SET_PROJECT_LIMITS, {
                projectId: project.id,
                share: limitValue(share, 1),
                maxConcurrentJobs: limitValue(limit) ?? null,
              });
              live.setProject(setProjectLimits);
            }),
        }),
    },

    setDeploymentMode: (enabled) => {
      if (!enabled) return void runDeploymentMode(false);
      ask({
        title: 'Enter deployment mode?',
        body: 'Running jobs finish; no queued job starts until deployment mode is turned off.',
        confirm: 'Enter deployment mode',
        run: () => runDeploymentMode(true),
      });
    },
  };
}
