import type { AppConfig } from '../../config/app-config';

/**
 * "host:port" devices bootstrap from when no policy sets Account.hostname: the public host of
 * ENCLAVE_PUBLIC_URL and ENCLAVE_DHT_PORT. Undefined when the server runs no DHT node (port 0).
 */
export function serverBootstrap(config: Pick<AppConfig, 'http' | 'dht'>): string | undefined {
  if (config.dht.port === 0) return undefined;
  const host = config.http.publicHost;
  return `${host.includes(':') ? `[${host}]` : host}:${config.dht.port}`;
}
