import type { EntityManager } from '@mikro-orm/postgresql';
import { policyFor } from '../../fl-backends/backend-policy.js';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { query, sql } from '../../database/sql.js';
import type { ClientRecord } from './client-report.js';
import type { NetModel } from './net.model.js';

/**
 * Records one `check_client_status` answer of a net, in ONE statement: each
 * reported client upserted (lastSeen: the net's connect time, else now when
 * online, else the last one known). `null` (the net could not be asked, or
 * gave no usable answer) and clients the answer leaves out are marked
 * offline with their lastSeen kept: their status is unknown, and a job must
 * only be paired with a net where its clients are known to be online.
 * Returns how many clients are online now that were not before.
 */
export async function recordClientStatuses(
  em: EntityManager,
  netId: string,
  clients: readonly ClientRecord[] | null,
): Promise<{ cameOnline: number }> {
  const reported = JSON.stringify((clients ?? []).map((c) => ({ name: c.name, online: c.online, last_connect: c.lastConnect })));
  const [row] = await query<{ cameOnline: number }>(
    em,
    sql`with reported as (
          select r.name, r.online, r.last_connect
          from jsonb_to_recordset(${reported}::jsonb) as r(name text, online boolean, last_connect timestamptz)
        ), known as (
          select client_name, online from net_client where net_id = ${netId}::uuid
        ), upserted as (
          insert into net_client as c (net_id, client_name, online, last_seen, checked_at)
          select ${netId}::uuid, r.name, r.online, coalesce(r.last_connect, case when r.online then now() end), now()
          from reported r
          on conflict (net_id, client_name) do update set online = excluded.online,
            last_seen = coalesce(excluded.last_seen, c.last_seen), checked_at = excluded.checked_at
          returning 1
        ), left_out as (
          update net_client set online = false, checked_at = now()
          where net_id = ${netId}::uuid and client_name not in (select name from reported)
        )
        select count(*)::int as "cameOnline" from reported r left join known k on k.client_name = r.name
        where r.online and k.online is not true`,
  );
  return row ?? { cameOnline: 0 };
}

/** True for a net `n` on which an offline client stops a start (NVFLARE), from the backend policies. */
const OFFLINE_BLOCKS = (() => {
  const blocking = Object.values(FlBackend).filter((backend) => policyFor(backend).offlineClientsBlockStart);
  return blocking.length === 0 ? 'false' : `n.fl_backend in (${blocking.map((backend) => `'${backend}'`).join(', ')})`;
})();

/**
 * True when every kit slot of job `j` is online on net `n` as the hub last
 * knew it, or when `n`'s backend starts with offline clients anyway (Flower).
 * A client the net never reported is not online. Only what was checked within
 * `freshMs` counts (null: whatever is recorded): a net the hub has no recent
 * view of does not block, and neither does a client last seen offline long
 * ago — the start's own `check_client_status` decides there. A trust without
 * a kit slot does not block here either: the start refuses it (it can never
 * train). For the admission's claim; the text form is for plain SQL.
 */
export function jobClientsOnlineSql(freshMs: number | null): string {
  return `(${netAdmitsAnyClientsSql(freshMs)} or ${jobClientsOnNetSql(freshMs)})`;
}

/**
 * The part of `jobClientsOnlineSql` that depends on the job: no kit slot of
 * job `j` is known offline on net `n` (within `freshMs`). Each of the job's
 * trusts finds its kit slot by index, one probe per trust (`offset 0` keeps
 * the planner from hashing the whole kit_slot table once per job).
 */
export function jobClientsOnNetSql(freshMs: number | null): string {
  return `not exists (
    select 1 from job_trust jt
    cross join lateral (select ks.slot_name from kit_slot ks where ks.assigned_trust_id = jt.trust_id offset 0) k
    left join net_client c on c.net_id = n.id and c.client_name = k.slot_name
    where jt.job_id = j.id and c.online is not true and (c.checked_at is null or ${fresh(freshMs, 'c.checked_at')}))`;
}

/**
 * The trusts whose kit slot is known offline on net `n` (within `freshMs`),
 * as `jobClientsOnNetSql` judges a slot: a query of `trust_id`. A job that
 * jobClientsOnNetSql refuses on `n` names one of them.
 */
export function trustsOfflineOnNetSql(freshMs: number | null): string {
  return `select k.assigned_trust_id as trust_id from kit_slot k
    left join net_client c on c.net_id = n.id and c.client_name = k.slot_name
    where k.assigned_trust_id is not null and c.online is not true and (c.checked_at is null or ${fresh(freshMs, 'c.checked_at')})`;
}

const fresh = (freshMs: number | null, column: string) =>
  freshMs === null ? 'true' : `${column} > now() - ${Math.round(freshMs)} * interval '1 millisecond'`;

/**
 * The part of `jobClientsOnlineSql` that does not depend on the job: true for
 * a net `n` whose backend starts with offline clients, or of which the hub
 * has no recent view — any job's clients pass there.
 */
export function netAdmitsAnyClientsSql(freshMs: number | null): string {
  return `(not ${OFFLINE_BLOCKS}
  or not exists (select 1 from net_client c0 where c0.net_id = n.id and ${fresh(freshMs, 'c0.checked_at')}))`;
}

/** `jobClientsOnlineSql` over everything recorded. */
export const JOB_CLIENTS_ONLINE_SQL = jobClientsOnlineSql(null);

export const JOB_CLIENTS_ONLINE = sql.raw(JOB_CLIENTS_ONLINE_SQL);

export interface SlotClientRow {
  slotName: string;
  net: NetModel;
  online: boolean;
  lastSeen: Date | null;
}

/** For each slot, one row per registered net (by net name): never reported there means offline, lastSeen null. */
export async function clientsOfSlots(em: EntityManager, slotNames: readonly string[]): Promise<SlotClientRow[]> {
  return query<SlotClientRow>(
    em,
    sql`select s.slot as "slotName", json_build_object('id', n.id, 'name', n.name, 'endpoint', n.endpoint,
              'flBackend', n.fl_backend, 'drained', n.drained) as net,
            coalesce(c.online, false) as online, c.last_seen as "lastSeen"
        from unnest(${slotNames}::text[]) as s(slot)
        cross join net n
        left join net_client c on c.net_id = n.id and c.client_name = s.slot
        order by s.slot, n.name`,
  );
}
