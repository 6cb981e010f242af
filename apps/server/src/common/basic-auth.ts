export interface BasicCredentials {
  username: string;
  password: string;
}

/** Parses `Authorization: Basic base64(user:password)`; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
