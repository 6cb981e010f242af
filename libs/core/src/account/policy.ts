import type { IceServer } from 'node-datachannel';

export type PolicyData = Record<string, string | number | boolean>;

/** What of an organization policy (Jami daemon keys, jams-protocol.md §7) the peer core applies. */
export interface NetworkPolicy {
  /** DHT bootstrap nodes, "host[:port]" (Account.hostname, ";"-separated). Port 4222 when absent. */
  bootstrap: string[];
  /** UDP port of the DHT node (Account.dhtPort, or DHT.port). */
  dhtPort?: number;
  /** TURN relay from TURN.enable/server/username/password. */
  iceServers: IceServer[];
  /** Account.proxyEnabled + Account.proxyServer: reach the DHT through this OpenDHT REST proxy. */
  dhtProxy?: string;
  /** Settings present in the policy that this agent does not apply, with why. */
  notApplied: string[];
}

const bool = (v: unknown) => v === true || v === 'true';
const DEFAULT_DHT_PORT = 4222;
const DEFAULT_TURN_PORT = 3478;

function hostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m) return { host: s, port: defaultPort };
  return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

export function networkPolicy(policy: PolicyData): NetworkPolicy {
  const notApplied: string[] = [];
  const bootstrap = String(policy['Account.hostname'] ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const { host, port } = hostPort(s, DEFAULT_DHT_PORT);
      return `${host.includes(':') ? `[${host}]` : host}:${port}`;
    });
  const portValue = policy['Account.dhtPort'] ?? policy['DHT.port'];
  const dhtPort = portValue !== undefined && Number.isInteger(Number(portValue)) ? Number(portValue) : undefined;
  const iceServers: IceServer[] = [];
  if (bool(policy['TURN.enable']) && policy['TURN.server']) {
    const { host, port } = hostPort(String(policy['TURN.server']), DEFAULT_TURN_PORT);
    iceServers.push({
      hostname: host,
      port,
      username: policy['TURN.username'] ? String(policy['TURN.username']) : undefined,
      password: policy['TURN.password'] ? String(policy['TURN.password']) : undefined,
      relayType: 'TurnUdp',
    });
  }
  let dhtProxy: string | undefined;
  if (bool(policy['Account.proxyEnabled']) && policy['Account.proxyServer']) {
    dhtProxy = String(policy['Account.proxyServer']).trim() || undefined;
  }
  if (bool(policy['Account.upnpEnabled'])) notApplied.push('Account.upnpEnabled: no UPnP port mapping');
  if (policy['Account.bootstrapListUrl']) notApplied.push('Account.bootstrapListUrl: not fetched');
  return { bootstrap, dhtPort: dhtPort && dhtPort > 0 ? dhtPort : undefined, iceServers, dhtProxy, notApplied };
}
