import { Server } from 'node:http';
import type { FakeNet } from '../../test/support/fake-net.js';

/**
 * What the benchmark's fake nets use as the HTTP keep-alive timeout: Node's
 * and uvicorn's default (5 s), as a real FL net would have.
 */
export const REAL_NET_KEEP_ALIVE_MS = 5000;

/**
 * The fake net (test/support/fake-net.ts) sets its server's keepAliveTimeout
 * to 1 s. The server then advertises `Keep-Alive: timeout=1`, which undici
 * (the hub's fetch) treats as too short to reuse (it keeps a 1–2 s safety
 * margin) — so every net call would open a new TCP connection, a cost of the
 * fake, not of the hub. This sets the timeout on the fake net's server (a
 * private field; no src/ or test/ file changes). Returns the timeout it
 * replaced, or null when the field is not there any more (the bench then runs
 * with the stock timeout).
 */
export function setNetKeepAlive(net: FakeNet, ms: number = REAL_NET_KEEP_ALIVE_MS): number | null {
  const server: unknown = Reflect.get(net, 'server');
  if (!(server instanceof Server)) return null;
  const previous = server.keepAliveTimeout;
  server.keepAliveTimeout = ms;
  return previous;
}
