import { ConfigError, type AppConfig } from '../config/app-config.js';
import { startSimNet, type SimNet } from './sim-net.js';

/** the kit slots a first run gets when FL_KIT_SLOTS is unset */
export const SIM_KIT_SLOTS: readonly string[] = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];

/** `sim-net-1` … `sim-net-<count>`: the names the hub registers its simulated nets under */
export function simNetNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `sim-net-${i + 1}`);
}

export interface RunningSimNets {
  /** the configuration with the simulated nets (and the default kit slots) added */
  readonly config: AppConfig;
  close(): Promise<void>;
}

/**
 * Starts SIM_NETS simulated nets on loopback ports for a first run and
 * returns the configuration that registers them (upserted by name, so a
 * restart moves them to their new ports). Their clients are the kit slots,
 * all online.
 */
export async function startSimNets(
  config: AppConfig,
  log: (line: string, kind: 'call' | 'run') => void,
): Promise<RunningSimNets> {
  const kitSlots = config.kitSlots.length > 0 ? config.kitSlots : SIM_KIT_SLOTS;
  const names = simNetNames(config.simNets);
  const taken = config.netEndpoints.find(({ name }) => names.includes(name));
  if (taken)
    throw new ConfigError('NET_ENDPOINTS', [`NET_ENDPOINTS names a net "${taken.name}", which SIM_NETS=${config.simNets} uses`]);
  const nets: Array<{ name: string; net: SimNet }> = [];
  try {
    for (const name of names) {
      const net = await startSimNet({
        backend: config.flBackend,
        clients: kitSlots,
        trainMs: config.simNetTrainMs,
        log: (line, kind) => log(`${name}: ${line}`, kind),
      });
      nets.push({ name, net });
    }
  } catch (error) {
    await Promise.all(nets.map(({ net }) => net.close()));
    throw error;
  }
  return {
    config: {
      ...config,
      netEndpoints: [...config.netEndpoints, ...nets.map(({ name, net }) => ({ name, endpoint: net.url }))],
      kitSlots,
    },
    close: async () => {
      await Promise.all(nets.map(({ net }) => net.close()));
    },
  };
}
