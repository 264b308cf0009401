import { FlBackend } from './fl-backend.enum.js';
import type { ClientStatus } from './net-client.js';

/** What differs between FL frameworks, in one place each. */
export interface BackendPolicy {
  readonly backend: FlBackend;
  /** client statuses that mean "offline" on this framework */
  readonly offlineStatuses: ReadonlySet<string>;
  /** whether an offline client stops the start (NVFLARE) or is only logged (Flower) */
  readonly offlineClientsBlockStart: boolean;
}

export const NVFLARE_POLICY: BackendPolicy = {
  backend: FlBackend.NVFLARE,
  offlineStatuses: new Set(['no_reply']),
  offlineClientsBlockStart: true,
};

export const FLOWER_POLICY: BackendPolicy = {
  backend: FlBackend.FLOWER,
  offlineStatuses: new Set(['DISCONNECTED']),
  offlineClientsBlockStart: false,
};

const POLICIES: Readonly<Record<FlBackend, BackendPolicy>> = {
  [FlBackend.NVFLARE]: NVFLARE_POLICY,
  [FlBackend.FLOWER]: FLOWER_POLICY,
};

export function policyFor(backend: FlBackend): BackendPolicy {
  return POLICIES[backend];
}

export interface ClientCheck {
  /** the job's clients that are offline or unknown to the net */
  offline: string[];
  /** true when the start must not go on */
  blocksStart: boolean;
}

/** Which of the job's clients (kit slot names) are not online on the net, and whether that stops the start. */
export function checkClients(policy: BackendPolicy, required: readonly string[], reported: readonly ClientStatus[]): ClientCheck {
  const online = new Set(reported.filter((c) => !policy.offlineStatuses.has(c.status)).map((c) => c.name));
  const offline = required.filter((name) => !online.has(name));
  return { offline, blocksStart: offline.length > 0 && policy.offlineClientsBlockStart };
}
