/**
 * Jami daemon account keys an organization may set through enrollment answers and policyData
 * (reference: jams-protocol.md §7). Identity keys (TLS.*, Account.managerUri, Account.managerUsername,
 * archive and push keys) are never sent: they would break or re-point the account.
 */
export type DaemonKeyType = 'bool' | 'int' | 'string';

export const DAEMON_KEYS: Record<string, DaemonKeyType> = {
  'Account.alias': 'string',
  'Account.displayName': 'string',
  'Account.enable': 'bool',
  'Account.videoEnabled': 'bool',
  'Account.hostname': 'string',
  'Account.mailbox': 'string',
  'Account.autoAnswer': 'bool',
  'Account.denySecondCall': 'bool',
  'Account.sendReadReceipt': 'bool',
  'Account.sendComposing': 'bool',
  'Account.rendezVous': 'bool',
  'Account.activeCallLimit': 'int',
  'Account.ringtoneEnabled': 'bool',
  'Account.ringtonePath': 'string',
  'Account.useragent': 'string',
  'Account.upnpEnabled': 'bool',
  'Account.defaultModerators': 'string',
  'Account.localModeratorsEnabled': 'bool',
  'Account.allModeratorEnabled': 'bool',
  'Account.allModeratorsEnabled': 'bool',
  'Account.uiCustomization': 'string',
  'Account.localInterface': 'string',
  'Account.publishedSameAsLocal': 'bool',
  'Account.publishedAddress': 'string',
  'Account.dtmfType': 'string',
  'Account.audioPortMin': 'int',
  'Account.audioPortMax': 'int',
  'Account.videoPortMin': 'int',
  'Account.videoPortMax': 'int',
  'TURN.enable': 'bool',
  'TURN.server': 'string',
  'TURN.username': 'string',
  'TURN.password': 'string',
  'TURN.realm': 'string',
  'Account.bootstrapListUrl': 'string',
  'DHT.port': 'int',
  'Account.dhtPort': 'int',
  'DHT.PublicInCalls': 'bool',
  'Account.peerDiscovery': 'bool',
  'Account.accountDiscovery': 'bool',
  'Account.accountPublish': 'bool',
  'Account.allowCertFromHistory': 'bool',
  'Account.allowCertFromContact': 'bool',
  'Account.allowCertFromTrusted': 'bool',
  'DHT.AllowFromTrusted': 'bool',
  'Account.dhtProxyListUrl': 'string',
  'Account.proxyEnabled': 'bool',
  'Account.proxyServer': 'string',
  'Account.proxyListEnabled': 'bool',
  'Account.dhtProxyServerEnabled': 'bool',
  'Account.dhtProxyServerPort': 'int',
  'RingNS.uri': 'string',
};

/** Keys that old and new clients spell differently: whichever is set, both are sent. */
export const KEY_ALIASES: [string, string][] = [
  ['Account.allModeratorEnabled', 'Account.allModeratorsEnabled'],
  ['DHT.port', 'Account.dhtPort'],
];

export type PolicyValue = string | number | boolean;
export type Policy = Record<string, PolicyValue>;

/** Checks a policy object; returns the problems (empty when valid). */
export function policyProblems(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return ['policy must be a JSON object'];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    const type = DAEMON_KEYS[key];
    if (!type) {
      problems.push(`${key} is not a Jami account setting an organization may set`);
      continue;
    }
    if (type === 'bool' && typeof value !== 'boolean') problems.push(`${key} must be true or false`);
    if (type === 'int' && !(typeof value === 'number' && Number.isInteger(value)))
      problems.push(`${key} must be an integer`);
    if (type === 'string' && typeof value !== 'string') problems.push(`${key} must be a string`);
  }
  return problems;
}

/** The keys as the daemon reads them: scalars as strings-to-be, aliases filled in. */
export function toDaemonConfig(policy: Policy): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = { ...policy };
  for (const [a, b] of KEY_ALIASES) {
    if (a in out && !(b in out)) out[b] = out[a];
    else if (b in out && !(a in out)) out[a] = out[b];
  }
  return out;
}
