import type { FlBackend } from '../../fl-backends/fl-backend.enum.js';

/** What starting a claimed job on its net needs: the net, the project, the latest cohort query, the kit slots. */
export interface StartDetails {
  netName: string;
  endpoint: string;
  flBackend: FlBackend;
  projectId: string;
  cohortQuery: string | null;
  slots: Array<{ trustId: string; slotName: string | null }>;
}
