import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface SelfSignedOptions {
  subject: string;
  /** 'ec' (P-256, default) or 'rsa:<bits>'. */
  key?: 'ec' | `rsa:${number}`;
  /** basicConstraints CA:TRUE + keyUsage keyCertSign,cRLSign. */
  ca?: boolean;
  /** e.g. 'DNS:enclave.example.org' */
  san?: string;
  days?: number;
}

/** A self-signed certificate made by the openssl CLI: <dir>/<name>.pem and <dir>/<name>.key. */
export function opensslSelfSigned(
  dir: string,
  name: string,
  opts: SelfSignedOptions,
): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  const key = opts.key ?? 'ec';
  const keyArgs = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', key];
  const ext = [
    ...(opts.ca
      ? ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']
      : []),
    ...(opts.san ? ['-addext', `subjectAltName=${opts.san}`] : []),
  ];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      opts.subject,
      '-days',
      String(opts.days ?? 2),
      ...ext,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}
