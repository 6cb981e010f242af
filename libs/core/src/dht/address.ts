import { isIPv4, isIPv6 } from 'node:net';

/** An IP endpoint. `host` is a literal IPv4 or IPv6 address. */
export interface Endpoint {
  host: string;
  port: number;
}

export type Family = 4 | 6;

/** Linux `sa_family_t` numbers, as OpenDHT puts them in `w` (want): never the host's own constants. */
export const WANT_INET = 2;
export const WANT_INET6 = 10;

export function familyOf(host: string): Family {
  if (isIPv4(host)) return 4;
  if (isIPv6(host)) return 6;
  throw new TypeError(`not an IP address: ${host}`);
}

/** "ip:port" or "[ip6]:port", for messages. */
export const formatEndpoint = (e: Endpoint): string =>
  e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;

/** A map key for an endpoint, the same whatever spelling of the address (IPv6 has several). */
export const endpointKey = (e: Endpoint): string => `${ipToBytes(e.host).toString('hex')}/${e.port}`;

export const sameEndpoint = (a: Endpoint, b: Endpoint): boolean =>
  a.port === b.port && ipToBytes(a.host).equals(ipToBytes(b.host));

/** The 4 or 16 bytes of an IP literal. */
export function ipToBytes(host: string): Buffer {
  if (isIPv4(host)) return Buffer.from(host.split('.').map(Number));
  if (!isIPv6(host)) throw new TypeError(`not an IP address: ${host}`);
  let text = host.split('%')[0];
  const out = Buffer.alloc(16);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) throw new TypeError(`an IP address has 4 or 16 bytes, not ${b.length}`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}

export function isLoopback(host: string): boolean {
  if (isIPv4(host)) return host.startsWith('127.');
  return isIPv6(host) && ipToBytes(host).equals(Buffer.from([...Array<number>(15).fill(0), 1]));
}

/**
 * OpenDHT's martian filter: addresses no real peer can have. Port 0; IPv4 0.0.0.0/8 and ≥ 224.0.0.0;
 * IPv6 multicast, link-local, unspecified and v4-mapped. Loopback is allowed (tests run on it).
 */
export function isMartian(e: Endpoint): boolean {
  if (e.port <= 0 || e.port > 0xffff) return true;
  const b = ipToBytes(e.host);
  if (b.length === 4) return b[0] === 0 || b[0] >= 224;
  if (b[0] === 0xff) return true;
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return true;
  if (b.subarray(0, 15).every((x) => x === 0) && (b[15] === 0 || b[15] === 1)) return b[15] === 0;
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** Parses "host:port" or "[v6]:port" (host may be a name; `port` defaults to 4222, OpenDHT's default). */
export function parseHostPort(s: string, defaultPort = 4222): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : defaultPort };
  const colons = s.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = s.split(':');
    return { host, port: Number(port) };
  }
  return { host: s, port: defaultPort };
}
