import fs from 'node:fs';
import type { Server as HttpsServer, ServerOptions } from 'node:https';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createCertificateAuthority, issueServerCertificate, keyId } from '@enclave/pki';
import { DataSource } from 'typeorm';
import { SecretBox } from '../../common/secret-box';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CaService } from './ca.service';
import { CertificateAuthority } from './certificate-authority.entity';
import { ServerCertificate } from './server-certificate.entity';

const RENEW_BEFORE_MS = 30 * 24 * 3600_000;
const serverKeyPurpose = (certificatePem: string) => `server-key:${keyId(certificatePem)}`;

/**
 * Only AEAD suites with forward secrecy: the TLS 1.3 suites, and for TLS 1.2 ECDHE with AES-GCM or
 * ChaCha20-Poly1305 (no CBC, no SHA-1 MACs, no static RSA key exchange).
 */
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

const TLS_PROTOCOL_OPTIONS = { ciphers: TLS_CIPHERS, minVersion: 'TLSv1.2', honorCipherOrder: true } as const;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** 'files' (ENCLAVE_TLS_CERT/KEY), 'ca' (issued by the org CA) or 'bootstrap' (setup state only). */
  source: 'files' | 'ca' | 'bootstrap';
}

/**
 * The HTTPS identity. By default the org CA issues the server certificate for ENCLAVE_PUBLIC_URL's host
 * (an IP host gets an IP subjectAltName); before setup a throw-away certificate serves the setup API, and
 * it is replaced in place (no restart) once the CA exists.
 */
@Injectable()
export class TlsService {
  private readonly logger = new Logger(TlsService.name);
  private server?: HttpsServer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ca: CaService,
    private readonly secrets: SecretBox,
  ) {}

  /** Options for https.createServer: the certificate, and an optional client certificate (device login). */
  async serverOptions(): Promise<ServerOptions> {
    const material = await this.material();
    return {
      ...TLS_PROTOCOL_OPTIONS,
      cert: material.cert,
      key: material.key,
      requestCert: true,
      rejectUnauthorized: false,
    };
  }

  attach(server: HttpsServer): void {
    this.server = server;
  }

  /** Re-reads the identity (after setup created the CA) and swaps it into the running server. */
  async refresh(): Promise<TlsMaterial> {
    const material = await this.material();
    this.server?.setSecureContext({ ...TLS_PROTOCOL_OPTIONS, cert: material.cert, key: material.key });
    this.logger.log({ source: material.source }, 'TLS identity refreshed');
    return material;
  }

  async material(): Promise<TlsMaterial> {
    const { tlsCertFile, tlsKeyFile } = this.config.http;
    if (tlsCertFile && tlsKeyFile) {
      return { cert: fs.readFileSync(tlsCertFile, 'utf8'), key: fs.readFileSync(tlsKeyFile, 'utf8'), source: 'files' };
    }
    const ca = await this.ca.active();
    if (!ca) return this.bootstrapMaterial();
    const stored = await this.currentFor(ca);
    if (stored) {
      return {
        cert: stored.certificatePem + ca.certificatePem,
        key: this.secrets.openText(stored.privateKeySealed, serverKeyPurpose(stored.certificatePem)),
        source: 'ca',
      };
    }
    return this.issue(ca);
  }

  private async currentFor(ca: CertificateAuthority): Promise<ServerCertificate | null> {
    const latest = await this.dataSource
      .getRepository(ServerCertificate)
      .findOne({ where: { caKeyId: ca.keyId }, order: { createdAt: 'DESC' } });
    if (!latest) return null;
    const host = this.config.http.publicHost;
    if (!latest.hostnames.includes(host)) return null;
    if (latest.notAfter.getTime() - Date.now() < RENEW_BEFORE_MS) return null;
    return latest;
  }

  private async issue(ca: CertificateAuthority): Promise<TlsMaterial> {
    const hostnames = [this.config.http.publicHost];
    const issued = await issueServerCertificate({ ca: this.ca.signerOf(ca), hostnames });
    const row = await this.dataSource.transaction(async (m) => {
      await this.ca.recordIssued(m, issued, ca.keyId, 'server');
      return m.save(
        m.create(ServerCertificate, {
          hostnames,
          caKeyId: ca.keyId,
          certificatePem: issued.certificatePem,
          privateKeySealed: this.secrets.seal(issued.privateKeyPem, serverKeyPurpose(issued.certificatePem)),
          notAfter: issued.notAfter,
        }),
      );
    });
    this.logger.log({ hostnames, notAfter: row.notAfter }, 'issued the HTTPS certificate from the organization CA');
    return { cert: issued.certificatePem + ca.certificatePem, key: issued.privateKeyPem, source: 'ca' };
  }

  private bootstrapCache?: TlsMaterial;

  /** Setup state: a short-lived certificate from a throw-away CA, never stored. */
  private async bootstrapMaterial(): Promise<TlsMaterial> {
    if (this.bootstrapCache) return this.bootstrapCache;
    const tmp = await createCertificateAuthority({
      commonName: 'Enclave setup (temporary)',
      algorithm: 'P-256',
      validityDays: 2,
    });
    const leaf = await issueServerCertificate({ ca: tmp, hostnames: [this.config.http.publicHost], validityDays: 1 });
    this.logger.warn(
      'setup is not finished: serving HTTPS with a temporary certificate until the organization CA exists',
    );
    this.bootstrapCache = {
      cert: leaf.certificatePem + tmp.certificatePem,
      key: leaf.privateKeyPem,
      source: 'bootstrap',
    };
    return this.bootstrapCache;
  }
}
