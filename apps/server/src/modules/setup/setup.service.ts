import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { AdminAuthService } from '../auth/admin-auth.service';
import { TokenResponseDto } from '../auth/auth.dto';
import { base32Encode } from '../auth/totp';
import { CaInput, CaService } from '../ca/ca.service';
import { TlsService } from '../ca/tls.service';
import { checkPassword } from '../users/username';
import { Setting } from './setting.entity';
import { SetupDto } from './setup.dto';

export const SETTING_SETUP = 'setup';
export const SETTING_ORGANIZATION = 'organization';

const ADMIN_USERNAME = /^[a-z0-9._-]{3,64}$/;
export const SETUP_CODE_FILE = 'setup-code';

const normalizeCode = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');
const digest = (code: string) => createHash('sha256').update(normalizeCode(code)).digest();

/** Reads a PEM given either inline or as a file path (ENCLAVE_CA_CERT / ENCLAVE_CA_KEY). */
export function pemFromEnv(value: string, variable: string): string {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  try {
    return fs.readFileSync(value, 'utf8');
  } catch (err) {
    throw new AppError(ErrorCode.CA_INVALID, `${variable}: cannot read ${value} (${(err as Error).message})`);
  }
}

@Injectable()
export class SetupService {
  private readonly logger = new Logger(SetupService.name);
  private setUp = false;
  /** The one-time setup code printed at start; POST /api/setup needs it. */
  private setupCode?: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ca: CaService,
    private readonly tls: TlsService,
    private readonly admins: AdminAuthService,
    private readonly audit: AuditService,
  ) {}

  async isSetUp(): Promise<boolean> {
    if (!this.setUp) this.setUp = (await this.dataSource.getRepository(Setting).countBy({ key: SETTING_SETUP })) > 0;
    return this.setUp;
  }

  async organization(): Promise<string | null> {
    const row = await this.dataSource.getRepository(Setting).findOneBy({ key: SETTING_ORGANIZATION });
    return (row?.value as { name?: string } | undefined)?.name ?? null;
  }

  /** Throws 404 ALREADY_SET_UP once setup is done: the setup API is gone for good. */
  async assertSetupOpen(): Promise<void> {
    if (await this.isSetUp()) throw new AppError(ErrorCode.ALREADY_SET_UP, 'The server is already set up');
  }

  get setupCodeFile(): string {
    return path.join(this.config.database.dataDir, SETUP_CODE_FILE);
  }

  /**
   * Setup is not first-come: when the server is not set up (and no ENCLAVE_ADMIN_* did it), a one-time
   * setup code is printed at warn level and written to <dataDir>/setup-code (mode 0600); POST /api/setup
   * needs it. A new code is made at every start until setup completes. Returns the code for the start
   * log line (see server.ts).
   */
  async announcePendingSetup(): Promise<string | undefined> {
    if (await this.isSetUp()) {
      fs.rmSync(this.setupCodeFile, { force: true });
      return undefined;
    }
    const raw = base32Encode(randomBytes(13)).slice(0, 20);
    const code = raw.match(/.{5}/g)!.join('-');
    fs.mkdirSync(this.config.database.dataDir, { recursive: true });
    fs.rmSync(this.setupCodeFile, { force: true });
    fs.writeFileSync(this.setupCodeFile, code + '\n', { mode: 0o600, flag: 'wx' });
    this.setupCode = code;
    return code;
  }

  /** POST /api/setup: the setup code (constant-time comparison) and then the setup itself. */
  async completeWithCode(dto: SetupDto, actor: string): Promise<TokenResponseDto> {
    await this.assertSetupOpen();
    const expected = this.setupCode;
    const given = dto.setupCode ?? '';
    const ok = expected !== undefined && timingSafeEqual(digest(given), digest(expected));
    if (!ok) {
      throw new AppError(
        ErrorCode.SETUP_CODE_INVALID,
        `setupCode is missing or wrong: use the one-time code the server printed at start (also in ${SETUP_CODE_FILE} in its data directory)`,
        { field: 'setupCode' },
      );
    }
    return this.complete(dto, actor);
  }

  /**
   * Creates the first admin, the organization CA and the organization settings atomically. Key generation
   * happens before the transaction, so a failure stores nothing.
   */
  async complete(dto: SetupDto, actor: string): Promise<TokenResponseDto> {
    await this.assertSetupOpen();
    const organization = dto.organization.trim();
    if (!organization) throw new AppError(ErrorCode.VALIDATION_FAILED, 'organization must not be blank');
    const username = dto.admin.username.trim().toLowerCase();
    if (!ADMIN_USERNAME.test(username)) {
      throw new AppError(
        ErrorCode.USERNAME_INVALID,
        'Admin username must be 3 to 64 characters among a-z, 0-9, ".", "_" and "-"',
      );
    }
    checkPassword(dto.admin.password);
    const caInput = this.caInput(dto, organization);
    const prepared = await this.ca.prepare(caInput);

    const token = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['enclave:setup']);
      if ((await m.countBy(Setting, { key: SETTING_SETUP })) > 0) {
        throw new AppError(ErrorCode.ALREADY_SET_UP, 'The server is already set up');
      }
      const admin = await this.admins.createAdmin(username, dto.admin.password, m);
      const stored = await this.ca.store(prepared, m);
      await this.saveSetting(m, SETTING_ORGANIZATION, { name: organization });
      await this.saveSetting(m, SETTING_SETUP, { completedAt: new Date().toISOString(), by: actor });
      await this.audit.record(
        {
          actor,
          action: 'setup.completed',
          target: organization,
          details: {
            admin: username,
            ca: { keyId: stored.keyId, imported: stored.imported, algorithm: stored.algorithm },
          },
        },
        m,
      );
      return this.admins.openSession(admin, {
        manager: m,
        ip: actor.startsWith('setup:') ? actor.slice(6) : undefined,
      });
    });
    this.setUp = true;
    this.setupCode = undefined;
    fs.rmSync(this.setupCodeFile, { force: true });
    this.logger.log(
      { organization, admin: username, caKeyId: prepared.keyId, imported: prepared.imported },
      'setup completed',
    );
    await this.tls.refresh();
    return token;
  }

  /** Unattended first start from ENCLAVE_ADMIN_USER / ENCLAVE_ADMIN_PASSWORD / ENCLAVE_ORG_NAME / ENCLAVE_CA_*. */
  async bootstrapFromEnvironment(): Promise<boolean> {
    const b = this.config.bootstrap;
    if (!b.adminUser || !b.adminPassword || (await this.isSetUp())) return false;
    const ca =
      b.caCert && b.caKey
        ? {
            mode: 'import' as const,
            certificatePem: pemFromEnv(b.caCert, 'ENCLAVE_CA_CERT'),
            privateKeyPem: pemFromEnv(b.caKey, 'ENCLAVE_CA_KEY'),
          }
        : { mode: 'generate' as const, algorithm: this.config.pki.caAlgorithm };
    try {
      await this.complete(
        { organization: b.orgName ?? 'Enclave', admin: { username: b.adminUser, password: b.adminPassword }, ca },
        'system:environment',
      );
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.ALREADY_SET_UP) return false;
      throw err;
    }
    return true;
  }

  private caInput(dto: SetupDto, organization: string): CaInput {
    const ca = dto.ca ?? { mode: 'generate' as const };
    if (ca.mode === 'import') {
      if (!ca.certificatePem || !ca.privateKeyPem) {
        throw new AppError(
          ErrorCode.VALIDATION_FAILED,
          'ca.certificatePem and ca.privateKeyPem are required to import a CA',
        );
      }
      return { mode: 'import', certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
    }
    return {
      mode: 'generate',
      commonName: ca.commonName?.trim() || `${organization.slice(0, 61)} CA`.slice(0, 64),
      organization,
      algorithm: ca.algorithm ?? this.config.pki.caAlgorithm,
    };
  }

  private async saveSetting(m: EntityManager, key: string, value: unknown): Promise<void> {
    await m.save(m.create(Setting, { key, value }));
  }
}
