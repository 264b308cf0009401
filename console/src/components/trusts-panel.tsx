import type { TrustData } from '../api/documents.js';
import { againstLimit, clock } from '../format.js';

/** What the trusts panel may offer: hold, release and a limit for a token that may manage trusts, else nothing. */
export interface TrustActions {
  allowed: boolean;
  hold(trust: TrustData): void;
  release(trust: TrustData): void;
  setLimit(trust: TrustData): void;
}

/** Trusts: kit slots, their FL client per net, running jobs against their limit, holds. */
export function TrustsPanel(props: { trusts: TrustData[]; actions: TrustActions }) {
  const { actions } = props;
  if (props.trusts.length === 0) return <p class="empty">No trust yet (createTrust).</p>;
  return (
    <table data-table="trusts">
      <thead>
        <tr>
          <th>Trust</th>
          <th>Kit slot (FL client)</th>
          <th>Client per net</th>
          <th title="jobs naming the trust that run now, on any net, against its limit">Running jobs</th>
          <th>Hold</th>
          {actions.allowed && <th />}
        </tr>
      </thead>
      <tbody>
        {props.trusts.map((trust) => (
          <tr key={trust.id} data-trust={trust.name} data-trust-id={trust.id} data-held={trust.onHold ? 'yes' : 'no'}>
            <td>{trust.name}</td>
            <td>{trust.slotName ?? 'none free'}</td>
            <td data-col="clients">
              {trust.clients.length === 0
                ? trust.slotName
                  ? 'not reported yet'
                  : '—'
                : trust.clients.map((client) => (
                    <span
                      key={client.net.id}
                      class={`badge client-${client.online ? 'online' : 'offline'}`}
                      data-client-net={client.net.name}
                      data-online={client.online ? 'yes' : 'no'}
                      title={client.lastSeen ? `last seen ${clock(client.lastSeen)}` : 'never seen'}
                    >
                      {client.net.name}: {client.online ? 'online' : 'offline'}
                    </span>
                  ))}
            </td>
            <td data-col="running">{againstLimit(trust.runningJobs, trust.maxConcurrentJobs)}</td>
            <td data-col="hold">
              {trust.onHold ? (
                <span class="badge held" title="its queued jobs wait; running ones go on">
                  {trust.holdUntil ? `on hold until ${clock(trust.holdUntil)}` : 'on hold until released'}
                </span>
              ) : (
                'none'
              )}
            </td>
            {actions.allowed && (
              <td class="actions">
                {trust.onHold ? (
                  <button type="button" data-action="release" onClick={() => actions.release(trust)}>
                    Release
                  </button>
                ) : (
                  <button type="button" class="danger" data-action="hold" onClick={() => actions.hold(trust)}>
                    Hold
                  </button>
                )}
                <button type="button" data-action="trust-limit" onClick={() => actions.setLimit(trust)}>
                  Set limit
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
