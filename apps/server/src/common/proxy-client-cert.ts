/**
 * Device login (mTLS) behind a TLS-terminating reverse proxy: the proxy sends the client certificate in a
 * header (ENCLAVE_CLIENT_CERT_HEADER), which is believed only on connections from ENCLAVE_TRUSTED_PROXIES.
 * From any other peer the header is ignored, so it cannot be forged by a client talking to the server directly.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';

export function isAddressOrCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split('/');
  if (rest.length || net.isIP(addr) === 0) return false;
  if (bits === undefined) return true;
  const max = net.isIP(addr) === 4 ? 32 : 128;
  return /^\d+$/.test(bits) && Number(bits) <= max;
}

export function trustedProxyList(entries: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = net.isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

function fromTrustedProxy(remote: string | undefined, proxies: net.BlockList): boolean {
  if (!remote) return false;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(remote)?.[1];
  if (v4) return proxies.check(v4, 'ipv4');
  return proxies.check(remote, net.isIP(remote) === 4 ? 'ipv4' : 'ipv6');
}

/** Parses the header value: URL-encoded PEM (nginx `$ssl_client_escaped_cert`), PEM, or base64 DER (Caddy). */
export function parseCertificateHeader(value: string): X509Certificate | undefined {
  const text = value.trim();
  if (!text) return undefined;
  try {
    const decoded = text.includes('%') ? decodeURIComponent(text) : text;
    if (decoded.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(decoded);
    return new X509Certificate(Buffer.from(decoded, 'base64'));
  } catch {
    return undefined;
  }
}

export interface ProxyCertOptions {
  header?: string;
  proxies: net.BlockList;
}

type CertRequest = Request & { proxiedClientCertificate?: X509Certificate | null };

/**
 * Express middleware: on a connection from a trusted proxy, the certificate from the header (or none) replaces
 * the connection's own; the header is removed from every request so nothing downstream reads it unchecked.
 */
export function proxyClientCertMiddleware(opts: ProxyCertOptions) {
  return (req: CertRequest, _res: unknown, next: () => void) => {
    if (!opts.header) return next();
    const raw = req.headers[opts.header];
    delete req.headers[opts.header];
    if (fromTrustedProxy(req.socket.remoteAddress, opts.proxies)) {
      req.proxiedClientCertificate = typeof raw === 'string' ? (parseCertificateHeader(raw) ?? null) : null;
    }
    next();
  };
}

/** The client certificate of the request: the trusted proxy's header when behind one, else the TLS peer's. */
export function requestClientCertificate(req: Request): X509Certificate | undefined {
  const proxied = (req as CertRequest).proxiedClientCertificate;
  if (proxied !== undefined) return proxied ?? undefined;
  const socket = req.socket as TLSSocket;
  return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
}
