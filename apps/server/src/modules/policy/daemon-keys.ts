import { isIPv6 } from 'node:net';

/**
 * Jami daemon account keys an organization may set through enrollment answers and policyData
 * (reference: jams-protocol.md §7). Identity keys (TLS.*, Account.managerUri, Account.managerUsername,
 * archive and push keys) are never sent: they would break or re-point the account.
 *
 * Each key has a kind that says what its value means, and the value is checked for that meaning:
 * - bool, string, int: the plain type;
 * - count: a non-negative integer (call limits);
 * - port: 1–65535; dhtPort: 0–65535 (0 lets the daemon pick);
 * - hostPort: `host[:port]` (TURN server); hostList: `host[:port]` entries separated by `;` (bootstrap);
 * - proxy: `host[:port]`, `host:[lo-hi]` or an http(s) URL (DHT proxy); url: an http(s) URL;
 * - dtmf: `overrtp` or `sipinfo`;
 * - people: `{users: [usernames], groups: [group ids or names]}`, delivered as `/`-joined Jami IDs;
 * - ui: the white-label object (see UI_FIELDS), delivered as the JSON text clients parse.
 */
export type DaemonKeyKind =
  | 'bool'
  | 'string'
  | 'int'
  | 'count'
  | 'port'
  | 'dhtPort'
  | 'hostPort'
  | 'hostList'
  | 'proxy'
  | 'url'
  | 'dtmf'
  | 'people'
  | 'ui';

export const DAEMON_KEYS: Record<string, DaemonKeyKind> = {
  'Account.alias': 'string',
  'Account.displayName': 'string',
  'Account.enable': 'bool',
  'Account.videoEnabled': 'bool',
  'Account.hostname': 'hostList',
  'Account.mailbox': 'string',
  'Account.autoAnswer': 'bool',
  'Account.denySecondCall': 'bool',
  'Account.sendReadReceipt': 'bool',
  'Account.sendComposing': 'bool',
  'Account.rendezVous': 'bool',
  'Account.activeCallLimit': 'count',
  'Account.ringtoneEnabled': 'bool',
  'Account.ringtonePath': 'string',
  'Account.useragent': 'string',
  'Account.upnpEnabled': 'bool',
  'Account.defaultModerators': 'people',
  'Account.localModeratorsEnabled': 'bool',
  'Account.allModeratorEnabled': 'bool',
  'Account.allModeratorsEnabled': 'bool',
  'Account.uiCustomization': 'ui',
  'Account.localInterface': 'string',
  'Account.publishedSameAsLocal': 'bool',
  'Account.publishedAddress': 'string',
  'Account.dtmfType': 'dtmf',
  'Account.audioPortMin': 'port',
  'Account.audioPortMax': 'port',
  'Account.videoPortMin': 'port',
  'Account.videoPortMax': 'port',
  'TURN.enable': 'bool',
  'TURN.server': 'hostPort',
  'TURN.username': 'string',
  'TURN.password': 'string',
  'TURN.realm': 'string',
  'Account.bootstrapListUrl': 'url',
  'DHT.port': 'dhtPort',
  'Account.dhtPort': 'dhtPort',
  'DHT.PublicInCalls': 'bool',
  'Account.peerDiscovery': 'bool',
  'Account.accountDiscovery': 'bool',
  'Account.accountPublish': 'bool',
  'Account.allowCertFromHistory': 'bool',
  'Account.allowCertFromContact': 'bool',
  'Account.allowCertFromTrusted': 'bool',
  'DHT.AllowFromTrusted': 'bool',
  'Account.dhtProxyListUrl': 'url',
  'Account.proxyEnabled': 'bool',
  'Account.proxyServer': 'proxy',
  'Account.proxyListEnabled': 'bool',
  'Account.dhtProxyServerEnabled': 'bool',
  'Account.dhtProxyServerPort': 'port',
  'RingNS.uri': 'url',
};

/** Keys that old and new clients spell differently: whichever is set, both are sent. */
export const KEY_ALIASES: [string, string][] = [
  ['Account.allModeratorEnabled', 'Account.allModeratorsEnabled'],
  ['DHT.port', 'Account.dhtPort'],
];

/** Port ranges: the minimum may not exceed the maximum when both are set together. */
const PORT_RANGES: [string, string][] = [
  ['Account.audioPortMin', 'Account.audioPortMax'],
  ['Account.videoPortMin', 'Account.videoPortMax'],
];

/** People named by an admin: usernames, and groups by id or name (stored as ids). */
export interface PeopleSetting {
  users: string[];
  groups: string[];
}

/**
 * The white-label object an admin sets for `Account.uiCustomization`. Delivered as the JSON text the Qt
 * and Android clients read (title, description, areTipsEnabled, backgroundType, backgroundColorOrUrl,
 * tipBoxAndIdColor, mainBoxColor, logoUrl, logoSize).
 */
export interface UiCustomizationSetting {
  title?: string;
  description?: string;
  areTipsEnabled?: boolean;
  /** `#rrggbb`. */
  backgroundColor?: string;
  /** An uploaded image id (POST /api/admin/policies/logos) shown as the background. */
  backgroundImage?: string;
  tipBoxAndIdColor?: string;
  mainBoxColor?: string;
  /** An uploaded logo id (POST /api/admin/policies/logos). */
  logo?: string;
  /** 0–100 (percent). */
  logoSize?: number;
}

type UiFieldKind = 'text' | 'bool' | 'color' | 'image' | 'percent';
export const UI_FIELDS: Record<keyof UiCustomizationSetting, UiFieldKind> = {
  title: 'text',
  description: 'text',
  areTipsEnabled: 'bool',
  backgroundColor: 'color',
  backgroundImage: 'image',
  tipBoxAndIdColor: 'color',
  mainBoxColor: 'color',
  logo: 'image',
  logoSize: 'percent',
};

export type PolicyValue = string | number | boolean;
export type SettingValue = PolicyValue | PeopleSetting | UiCustomizationSetting;
/** A policy's settings as stored and as an admin writes them. */
export type PolicySettings = Record<string, SettingValue>;
/** What a device receives: flat daemon keys. */
export type DaemonConfig = Record<string, PolicyValue>;

export interface SettingIssue {
  /** The daemon key at fault ('' when the settings object itself is wrong). */
  key: string;
  message: string;
}

const MAX_STRING = 1024;
const MAX_PEOPLE = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return isIPv6(host.slice(1, -1));
  return host.length <= 253 && host.split('.').every((l) => HOST_LABEL.test(l));
}

/** `host[:port]`, with `[v6]` brackets; the port 1–65535. */
export function isHostPort(s: string): boolean {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m || !isHost(m[1])) return false;
  return m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535);
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && isHost(u.hostname);
  } catch {
    return false;
  }
}

function isProxy(s: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return isHttpUrl(s);
  const range = /^(.*):\[(\d{1,5})-(\d{1,5})\]$/.exec(s);
  if (range) {
    const [lo, hi] = [Number(range[2]), Number(range[3])];
    return isHostPort(range[1]) && lo >= 1 && hi <= 65535 && lo <= hi;
  }
  return isHostPort(s);
}

function stringIssue(key: string, value: unknown): string | null {
  if (typeof value !== 'string') return `${key} must be a string`;
  if (value.length > MAX_STRING) return `${key} is too long (at most ${MAX_STRING} characters)`;
  if (CONTROL.test(value)) return `${key} must not contain control characters`;
  return null;
}

function intIssue(key: string, value: unknown, min?: number, max?: number, what?: string): string | null {
  if (!(typeof value === 'number' && Number.isInteger(value))) return `${key} must be an integer`;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    return `${key} must be ${what ?? `between ${min} and ${max}`}, got ${value}`;
  }
  return null;
}

function shown(value: string): string {
  return JSON.stringify(value.slice(0, 80));
}

function peopleIssues(key: string, value: unknown): string[] {
  const shape = `${key} must be {"users": [usernames], "groups": [group ids or names]}`;
  if (!isObject(value)) return [shape];
  const out: string[] = [];
  for (const field of Object.keys(value))
    if (field !== 'users' && field !== 'groups') out.push(`${key}.${field} is not allowed; ${shape}`);
  for (const field of ['users', 'groups'] as const) {
    const list = value[field] ?? [];
    if (!Array.isArray(list)) {
      out.push(`${key}.${field} must be a list of names`);
      continue;
    }
    if (list.length > MAX_PEOPLE) out.push(`${key}.${field} names more than ${MAX_PEOPLE} entries`);
    list.forEach((item, i) => {
      if (typeof item !== 'string' || !item.trim() || item.length > 256 || CONTROL.test(item)) {
        out.push(`${key}.${field}[${i}] must be a non-empty name without control characters`);
      }
    });
  }
  return out;
}

function uiIssues(key: string, value: unknown): string[] {
  if (!isObject(value)) return [`${key} must be an object such as {"title": "…", "logo": "<uploaded logo id>"}`];
  const out: string[] = [];
  for (const [field, v] of Object.entries(value)) {
    const kind = UI_FIELDS[field as keyof UiCustomizationSetting];
    const at = `${key}.${field}`;
    if (!kind) out.push(`${at} is not a UI customization field (${Object.keys(UI_FIELDS).join(', ')})`);
    else if (kind === 'text') {
      const s = stringIssue(at, v);
      if (s) out.push(s);
    } else if (kind === 'bool' && typeof v !== 'boolean') out.push(`${at} must be true or false`);
    else if (kind === 'color' && !(typeof v === 'string' && COLOR.test(v))) out.push(`${at} must be a #rrggbb color`);
    else if (kind === 'image' && !(typeof v === 'string' && UUID.test(v)))
      out.push(`${at} must be an uploaded logo id`);
    else if (kind === 'percent') {
      const s = intIssue(at, v, 0, 100);
      if (s) out.push(s);
    }
  }
  if (value.backgroundColor !== undefined && value.backgroundImage !== undefined) {
    out.push(`${key}: set backgroundColor or backgroundImage, not both`);
  }
  return out;
}

/** The problems of one key's value, checked by the key's meaning (people and logos exist: checked later). */
function valueIssues(key: string, kind: DaemonKeyKind, value: unknown): string[] {
  const one = (s: string | null) => (s ? [s] : []);
  switch (kind) {
    case 'bool':
      return typeof value === 'boolean' ? [] : [`${key} must be true or false`];
    case 'int':
      return one(intIssue(key, value));
    case 'count':
      return one(intIssue(key, value, 0, 1_000_000, 'a non-negative integer'));
    case 'port':
      return one(intIssue(key, value, 1, 65535, 'a port number (1–65535)'));
    case 'dhtPort':
      return one(intIssue(key, value, 0, 65535, 'a port number (0–65535, 0: any)'));
    case 'string':
      return one(stringIssue(key, value));
    case 'hostPort':
    case 'hostList':
    case 'proxy':
    case 'url':
    case 'dtmf': {
      const s = stringIssue(key, value);
      if (s) return [s];
      const text = (value as string).trim();
      if (kind === 'dtmf')
        return ['overrtp', 'sipinfo'].includes(text) ? [] : [`${key} must be "overrtp" or "sipinfo"`];
      // Present but empty clears the client's value (jams-protocol.md §7).
      if (!text) return [];
      if (kind === 'hostPort' && !isHostPort(text))
        return [`${key} must be host[:port] (e.g. turn.example.org:3478), got ${shown(text)}`];
      if (kind === 'hostList') {
        const bad = text
          .split(';')
          .map((e) => e.trim())
          .filter((e) => !e || !isHostPort(e));
        return bad.length ? [`${key} must be host[:port] entries separated by ";", got ${shown(text)}`] : [];
      }
      if (kind === 'proxy' && !isProxy(text))
        return [`${key} must be host[:port] or an http(s) URL, got ${shown(text)}`];
      if (kind === 'url' && !isHttpUrl(text)) return [`${key} must be an http(s) URL, got ${shown(text)}`];
      return [];
    }
    case 'people':
      return peopleIssues(key, value);
    case 'ui':
      return uiIssues(key, value);
  }
}

/**
 * Checks a settings object without the database: known keys, each value by its meaning, port ranges and
 * aliased keys agreeing. Whether named people and uploaded logos exist is checked by PolicyService.
 */
export function settingsIssues(input: unknown, what = 'policy'): SettingIssue[] {
  if (!isObject(input)) return [{ key: '', message: `${what} must be a JSON object` }];
  const issues: SettingIssue[] = [];
  for (const [key, value] of Object.entries(input)) {
    const kind = Object.hasOwn(DAEMON_KEYS, key) ? DAEMON_KEYS[key] : undefined;
    if (!kind) {
      issues.push({ key, message: `${key.slice(0, 100)} is not a Jami account setting an organization may set` });
      continue;
    }
    for (const message of valueIssues(key, kind, value)) issues.push({ key, message });
  }
  for (const [min, max] of PORT_RANGES) {
    const [a, b] = [input[min], input[max]];
    if (typeof a === 'number' && typeof b === 'number' && a > b) {
      issues.push({ key: min, message: `${min} (${a}) must not exceed ${max} (${b})` });
    }
  }
  for (const [a, b] of KEY_ALIASES) {
    if (a in input && b in input && input[a] !== input[b]) {
      issues.push({ key: b, message: `${a} and ${b} are the same setting and must agree` });
    }
  }
  return issues;
}

/** The problems as messages (configuration checks of ENCLAVE_DEFAULT_POLICY). */
export function policyProblems(input: unknown): string[] {
  return settingsIssues(input).map((i) => i.message);
}

/** Fills in the other spelling of aliased keys. */
export function withAliases<T>(config: Record<string, T>): Record<string, T> {
  const out = { ...config };
  for (const [a, b] of KEY_ALIASES) {
    if (a in out && !(b in out)) out[b] = out[a];
    else if (b in out && !(a in out)) out[a] = out[b];
  }
  return out;
}

/** The keys as the daemon reads them: scalars, aliases filled in. */
export function toDaemonConfig(config: DaemonConfig): DaemonConfig {
  return withAliases(config);
}

/** The path clients load an uploaded image from (managerUri + path, jams-protocol.md §7). */
export function logoPath(id: string): string {
  return `/api/branding/logos/${id}`;
}

/** The JSON text Jami clients parse from `Account.uiCustomization`. */
export function uiCustomizationText(ui: UiCustomizationSetting): string {
  const out: Record<string, string | number | boolean> = {};
  if (ui.title !== undefined) out.title = ui.title;
  if (ui.description !== undefined) out.description = ui.description;
  if (ui.areTipsEnabled !== undefined) out.areTipsEnabled = ui.areTipsEnabled;
  if (ui.backgroundColor !== undefined) {
    out.backgroundType = 'color';
    out.backgroundColorOrUrl = ui.backgroundColor;
  } else if (ui.backgroundImage !== undefined) {
    out.backgroundType = 'image';
    out.backgroundColorOrUrl = logoPath(ui.backgroundImage);
  }
  if (ui.tipBoxAndIdColor !== undefined) out.tipBoxAndIdColor = ui.tipBoxAndIdColor;
  if (ui.mainBoxColor !== undefined) out.mainBoxColor = ui.mainBoxColor;
  if (ui.logo !== undefined) out.logoUrl = logoPath(ui.logo);
  if (ui.logoSize !== undefined) out.logoSize = ui.logoSize;
  return JSON.stringify(out);
}

/** Uploaded image ids a settings object refers to. */
export function imageIds(settings: PolicySettings): string[] {
  const ui = settings['Account.uiCustomization'] as UiCustomizationSetting | undefined;
  return ui ? [ui.logo, ui.backgroundImage].filter((x): x is string => typeof x === 'string') : [];
}

/** JSON text with object keys sorted, to compare values whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The keys whose values differ between two settings objects. */
export function diffSettings(
  before: PolicySettings,
  after: PolicySettings,
): { added: string[]; removed: string[]; changed: string[] } {
  const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
  return {
    added: Object.keys(after)
      .filter((k) => !(k in before))
      .sort(),
    removed: Object.keys(before)
      .filter((k) => !(k in after))
      .sort(),
    changed: Object.keys(after)
      .filter((k) => k in before && !same(before[k], after[k]))
      .sort(),
  };
}
