import type { FlBackend } from '../../../fl-backends/fl-backend.enum.js';
import type { JobRow } from '../job.sql.js';

/** What starting a claimed job on its net needs: the net, the project, the latest cohort query, the kit slots. */
export interface StartDetails {
  netName: string;
  endpoint: string;
  flBackend: FlBackend;
  projectId: string;
  cohortQuery: string | null;
  slots: Array<{ trustId: string; slotName: string | null }>;
}

/** A job claimed for a net: what the start needs to compare-and-set on later. */
export interface Claim {
  job: JobRow;
  claimToken: string;
  schedulerId: string;
  /** the job's trusts */
  trustIds: string[];
  /** what the start needs, loaded with the claim */
  details?: StartDetails;
}
