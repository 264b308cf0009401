/**
 * A simulated FL net for humans, outside the hub: serves the SPEC.md net
 * contract (the module the hub starts with SIM_NETS), logs every call, and
 * trains each run for a while.
 *
 *   npm run sim:net -- --port 8001 --backend nvflare --clients site-1,site-2 --train-ms 15000
 *
 * Flags, or the environment: --port (SIM_NET_PORT, 8001), --backend
 * (SIM_NET_BACKEND, nvflare|flower), --clients (SIM_NET_CLIENTS, online;
 * default site-1..site-5), --offline (SIM_NET_OFFLINE, clients reported
 * offline), --train-ms (SIM_NET_TRAIN_MS, 15000), --name (SIM_NET_NAME, the
 * net's name in the printed NET_ENDPOINTS, sim-net-1).
 */
import { parseArgs } from 'node:util';
import { startSimNet, type SimBackend } from '../src/sim-nets/sim-net.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SIM_NET_PORT ?? '8001' },
    backend: { type: 'string', default: process.env.SIM_NET_BACKEND ?? 'nvflare' },
    clients: { type: 'string', default: process.env.SIM_NET_CLIENTS ?? 'site-1,site-2,site-3,site-4,site-5' },
    offline: { type: 'string', default: process.env.SIM_NET_OFFLINE ?? '' },
    'train-ms': { type: 'string', default: process.env.SIM_NET_TRAIN_MS ?? '15000' },
    name: { type: 'string', default: process.env.SIM_NET_NAME ?? 'sim-net-1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(
    'usage: npm run sim:net -- [--port 8001] [--backend nvflare|flower] [--clients a,b] [--offline c] [--train-ms 15000] [--name sim-net-1]',
  );
  process.exit(0);
}

function fail(message: string): never {
  console.error(`sim-net: ${message}`);
  process.exit(2);
}

function nonNegativeInt(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`--${flag} must be a non-negative integer, got "${text}"`);
  return value;
}

const names = (list: string) =>
  list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);

const port = nonNegativeInt('port', values.port);
const trainMs = nonNegativeInt('train-ms', values['train-ms']);
if (values.backend !== 'nvflare' && values.backend !== 'flower')
  fail(`--backend must be nvflare or flower, got "${values.backend}"`);
const backend: SimBackend = values.backend;
const online = names(values.clients);
const offline = names(values.offline);

const time = () => new Date().toISOString().slice(11, 23);

const net = await startSimNet({
  port,
  backend,
  clients: online,
  offlineClients: offline,
  trainMs,
  log: (line) => console.log(`${time()} ${line}`),
}).catch((error: unknown) =>
  fail(`cannot listen on 127.0.0.1:${port}: ${error instanceof Error ? error.message : String(error)}`),
);

console.log(
  `sim-net: ${backend} net on ${net.url}, clients online: ${online.join(', ') || '(none)'}${offline.length ? `, offline: ${offline.join(', ')}` : ''}`,
);
console.log('Point the hub at it:');
console.log(
  `  NET_ENDPOINTS='${JSON.stringify({ [values.name]: net.url })}' FL_BACKEND=${backend} FL_KIT_SLOTS=${online.join(',')} npm run start:dev`,
);
console.log('Ctrl-C to stop.');

let closing = false;
const shutdown = (signal: string) => {
  if (closing) process.exit(1);
  closing = true;
  console.log(`\nsim-net: ${signal}, closing`);
  net.close().then(
    () => process.exit(0),
    (error: unknown) => fail(String(error)),
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
