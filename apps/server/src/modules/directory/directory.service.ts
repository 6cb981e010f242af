import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { SecretBox } from '../../common/secret-box';
import { AuditService } from '../audit/audit.service';
import { USERNAME_PATTERN } from '../users/username';
import { User } from '../users/user.entity';
import { DirectoryConfig } from './directory-config.entity';
import { DirectoryUser, FLAVORS, flavorOf, toDirectoryUser, userAttributes } from './directory-schema';
import { ConnectionTestDto, DirectorySettingsDto, DirectorySettingsResponseDto } from './directory.dto';
import { escapeFilterValue, LdapConnection, LdapStageError } from './ldap-connection';

const BIND_PASSWORD_PURPOSE = 'directory:bind-password';

/**
 * The organization's directory: settings, connection tests, and password checks by binding as the user.
 * Outages are DIRECTORY_UNAVAILABLE (503), never a false "wrong password".
 */
@Injectable()
export class DirectoryService {
  private readonly logger = new Logger(DirectoryService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async config(): Promise<DirectoryConfig> {
    const row = await this.dataSource.getRepository(DirectoryConfig).findOne({ where: { id: 1 } });
    return (
      row ?? this.dataSource.getRepository(DirectoryConfig).create({ id: 1, type: 'local', attributeMap: {} as never })
    );
  }

  toResponse(c: DirectoryConfig): DirectorySettingsResponseDto {
    return {
      type: c.type,
      url: c.url,
      startTls: c.startTls,
      caCertPem: c.caCertPem,
      bindDn: c.bindDn,
      bindPasswordSet: !!c.bindPasswordSealed,
      baseDn: c.baseDn,
      userFilter: c.userFilter,
      usernameAttribute: c.usernameAttribute,
      attributeMap: c.attributeMap,
      groupBaseDn: c.groupBaseDn,
      groupFilter: c.groupFilter,
      syncIntervalMinutes: c.syncIntervalMinutes,
      fullSyncHours: c.fullSyncHours,
      brakePercent: c.brakePercent,
    };
  }

  /** Merges the input over the stored settings and the type's defaults; checks before anything is saved. */
  async update(dto: DirectorySettingsDto, actor: string): Promise<DirectoryConfig> {
    const current = await this.config();
    const next = this.dataSource.getRepository(DirectoryConfig).create({ ...current, id: 1, type: dto.type });
    if (dto.type !== 'local') {
      const f = FLAVORS[dto.type];
      const typeChanged = current.type !== dto.type;
      next.url = dto.url ?? (typeChanged ? '' : current.url);
      next.startTls = dto.startTls ?? (typeChanged ? false : current.startTls);
      next.caCertPem = dto.caCertPem === undefined ? current.caCertPem : dto.caCertPem || null;
      next.bindDn = dto.bindDn ?? current.bindDn;
      next.baseDn = dto.baseDn ?? current.baseDn;
      next.userFilter = dto.userFilter ?? (typeChanged || !current.userFilter ? f.userFilter : current.userFilter);
      next.usernameAttribute =
        dto.usernameAttribute ??
        (typeChanged || !current.usernameAttribute ? f.usernameAttribute : current.usernameAttribute);
      next.attributeMap = {
        ...f.attributeMap,
        ...(typeChanged ? {} : current.attributeMap),
        ...(dto.attributeMap ?? {}),
      };
      next.groupBaseDn = dto.groupBaseDn === undefined ? current.groupBaseDn : dto.groupBaseDn || null;
      next.groupFilter = dto.groupFilter ?? (typeChanged || !current.groupFilter ? f.groupFilter : current.groupFilter);
      if (dto.bindPassword !== undefined)
        next.bindPasswordSealed = this.secrets.seal(dto.bindPassword, BIND_PASSWORD_PURPOSE);
      const problems: string[] = [];
      if (!/^ldaps?:\/\/[^/\s]+\/?$/i.test(next.url))
        problems.push('url must be ldap://host[:port] or ldaps://host[:port]');
      if (next.startTls && next.url.toLowerCase().startsWith('ldaps:'))
        problems.push('startTls applies to ldap:// URLs only');
      if (!next.baseDn) problems.push('baseDn is required');
      if (!/^\(.*\)$/.test(next.userFilter)) problems.push('userFilter must be an LDAP filter in parentheses');
      if (next.caCertPem && !next.caCertPem.includes('-----BEGIN CERTIFICATE-----'))
        problems.push('caCertPem must be PEM certificates');
      if (problems.length) throw new AppError(ErrorCode.VALIDATION_FAILED, problems.join('; '), { problems });
    }
    next.syncIntervalMinutes = dto.syncIntervalMinutes ?? current.syncIntervalMinutes ?? 60;
    next.fullSyncHours = dto.fullSyncHours ?? current.fullSyncHours ?? 24;
    next.brakePercent = dto.brakePercent ?? current.brakePercent ?? 10;
    if (current.type !== dto.type || current.url !== next.url || current.baseDn !== next.baseDn)
      next.syncWatermark = null;
    const before = this.toResponse(current);
    const saved = await this.dataSource.transaction(async (m) => {
      const s = await m.save(next);
      await this.audit.record(
        {
          actor,
          action: 'directory.settings_changed',
          details: { type: s.type, url: s.url, baseDn: s.baseDn, bindPasswordChanged: dto.bindPassword !== undefined },
          // The settings as the API shows them: the bind password only as bindPasswordSet.
          before: { ...before },
          after: { ...this.toResponse(s) },
        },
        m,
      );
      return s;
    });
    return saved;
  }

  /** A connection bound as the service account (or anonymous without a bind DN). */
  async connect(config: DirectoryConfig): Promise<LdapConnection> {
    const conn = await LdapConnection.open({ url: config.url, startTls: config.startTls, caCertPem: config.caCertPem });
    try {
      if (config.bindDn) {
        const password = config.bindPasswordSealed
          ? this.secrets.openText(config.bindPasswordSealed, BIND_PASSWORD_PURPOSE)
          : '';
        await conn.bind(config.bindDn, password);
      }
      return conn;
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  /** Tries each step against the stored settings and says which failed; counts the users the filter matches. */
  async test(): Promise<ConnectionTestDto> {
    const config = await this.config();
    if (config.type === 'local') {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'The organization uses the local user database: nothing to test');
    }
    const order = ['url', 'dns', 'tcp', 'tls', 'bind', 'search'] as const;
    const stages: ConnectionTestDto['stages'] = [];
    let conn: LdapConnection | undefined;
    try {
      conn = await this.connect(config);
      let matched = 0;
      await conn.pagedSearch(
        config.baseDn,
        { filter: config.userFilter, attributes: ['1.1'], pageSize: 1000 },
        async (page) => {
          matched += page.length;
        },
      );
      for (const s of order) stages.push({ stage: s, ok: true });
      return { ok: true, stages, matchedUsers: matched };
    } catch (err) {
      if (!(err instanceof LdapStageError)) throw err;
      for (const s of order) {
        if (s === err.stage) {
          stages.push({ stage: s, ok: false, message: err.message });
          break;
        }
        stages.push({ stage: s, ok: true });
      }
      return { ok: false, stages, matchedUsers: null };
    } finally {
      await conn?.close();
    }
  }

  /**
   * Checks a directory user's password by binding as them. Returns their directory record, or throws
   * INVALID_CREDENTIALS (unknown user or refused bind) / DIRECTORY_UNAVAILABLE (anything else).
   */
  async authenticate(config: DirectoryConfig, login: string, password: string): Promise<DirectoryUser> {
    if (!password) throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
    let conn: LdapConnection | undefined;
    try {
      conn = await this.connect(config);
      const v = escapeFilterValue(login);
      const who =
        config.type === 'ad'
          ? `(|(${config.usernameAttribute}=${v})(userPrincipalName=${v}))`
          : `(${config.usernameAttribute}=${v})`;
      const found = await conn.search(config.baseDn, {
        filter: `(&${config.userFilter}${who})`,
        attributes: userAttributes(config),
      });
      if (found.length !== 1) throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
      const mapped = toDirectoryUser(config, found[0]);
      if ('error' in mapped) throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
      try {
        await conn.bind(found[0].dn, password);
      } catch (err) {
        if (err instanceof LdapStageError && err.ldapCode === 49) {
          throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
        }
        throw err;
      }
      return mapped.user;
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.logger.warn({ err, stage: (err as LdapStageError).stage }, 'directory unavailable during authentication');
      throw new AppError(ErrorCode.DIRECTORY_UNAVAILABLE, `The directory is unavailable (${(err as Error).message})`, {
        stage: (err as LdapStageError).stage,
      });
    } finally {
      await conn?.close();
    }
  }

  /** Creates or refreshes the Enclave user for an authenticated directory user (just-in-time provisioning). */
  async upsertUser(config: DirectoryConfig, d: DirectoryUser): Promise<User> {
    const username = d.username.toLowerCase();
    if (!USERNAME_PATTERN.test(username)) {
      throw new AppError(ErrorCode.USERNAME_INVALID, `Directory name "${d.username}" does not fit Jami's name rules`);
    }
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(User);
      const existing = await repo.findOne({ where: { externalId: d.externalId } });
      const fields = {
        username,
        dn: d.dn,
        firstName: d.firstName,
        lastName: d.lastName,
        email: d.email,
        phone: d.phone,
        photo: d.photo,
        directoryVersion: d.version,
        source: config.type as 'ldap' | 'ad',
      };
      const audited = ['username', 'dn', 'firstName', 'lastName', 'email', 'phone', 'source'] as const;
      if (existing) {
        await repo.update({ id: existing.id }, fields);
        const changed = audited.filter((k) => existing[k] !== fields[k]);
        if (changed.length) {
          await this.audit.record(
            {
              actor: `user:${username}`,
              action: 'user.updated',
              target: username,
              details: { via: 'directory-login', source: config.type, externalId: d.externalId },
              before: Object.fromEntries(changed.map((k) => [k, existing[k]])),
              after: Object.fromEntries(changed.map((k) => [k, fields[k]])),
            },
            m,
          );
        }
        return repo.findOneOrFail({ where: { id: existing.id } });
      }
      const clash = await repo.findOne({ where: { username } });
      if (clash) throw new AppError(ErrorCode.USER_EXISTS, `A different user named "${username}" already exists`);
      const created = await repo.save(
        repo.create({ ...fields, externalId: d.externalId, passwordHash: null, status: 'active' }),
      );
      await this.audit.record(
        {
          actor: `user:${username}`,
          action: 'user.created',
          target: username,
          details: { via: 'directory-login', source: config.type, externalId: d.externalId },
          after: Object.fromEntries(audited.map((k) => [k, fields[k]])),
        },
        m,
      );
      return created;
    });
  }

  flavor(config: DirectoryConfig) {
    return flavorOf(config);
  }
}
