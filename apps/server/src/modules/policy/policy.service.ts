import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, QueryFailedError, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { serverBootstrap } from '../dht/dht-bootstrap';
import { GroupsService } from '../groups/groups.service';
import { PeopleService } from '../groups/people.service';
import {
  DAEMON_KEYS,
  DaemonConfig,
  diffSettings,
  imageIds,
  KEY_ALIASES,
  PeopleSetting,
  PolicySettings,
  SettingIssue,
  settingsIssues,
  toDaemonConfig,
  uiCustomizationText,
  UiCustomizationSetting,
} from './daemon-keys';
import { LogosService } from './logos.service';
import { PolicySecrets } from './policy-secrets';
import {
  CreatePolicyDto,
  EffectivePolicyResponseDto,
  PolicyPreviewResponseDto,
  PolicyResponseDto,
  PolicySourceDto,
  PolicyVersionResponseDto,
  UpdatePolicyDto,
  UserPolicyResponseDto,
} from './policy.dto';
import { Policy, PolicyVersion, UserPolicy } from './policy.entity';

const DEFAULT_NAME = 'Organization default';

const pgCode = (err: unknown) =>
  err instanceof QueryFailedError ? (err.driverError as { code?: string } | undefined)?.code : undefined;

/**
 * Policies as named, versioned objects, and what a user's devices receive: the organization default, then the
 * policies of the user's groups in ascending priority (ties: group name), then the user's own override; a later
 * layer overrides an earlier one key by key. Keys nobody set are not sent, so clients keep their own values.
 * People (`Account.defaultModerators`) are resolved to Jami IDs at delivery, so membership changes and new
 * enrollments reach devices at their next policyData.
 */
@Injectable()
export class PolicyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PolicyService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Policy) private readonly policies: Repository<Policy>,
    @InjectRepository(PolicyVersion) private readonly versions: Repository<PolicyVersion>,
    @InjectRepository(UserPolicy) private readonly userPolicies: Repository<UserPolicy>,
    private readonly people: PeopleService,
    private readonly groups: GroupsService,
    private readonly logos: LogosService,
    private readonly secrets: PolicySecrets,
    private readonly audit: AuditService,
  ) {}

  /** First start: the organization default is created from ENCLAVE_DEFAULT_POLICY (later starts leave it alone). */
  async onApplicationBootstrap(): Promise<void> {
    await this.seedDefault();
  }

  async seedDefault(): Promise<boolean> {
    return this.policies.manager.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['enclave:default-policy']);
      if (await m.exists(Policy, { where: { isDefault: true } })) return false;
      let settings: PolicySettings;
      try {
        settings = this.secrets.seal(await this.validate(this.config.policy.defaults, m));
      } catch (err) {
        if (err instanceof AppError) throw new Error(`ENCLAVE_DEFAULT_POLICY: ${err.message}`);
        throw err;
      }
      let name = DEFAULT_NAME;
      for (let i = 2; await m.exists(Policy, { where: { name } }); i++) name = `${DEFAULT_NAME} ${i}`;
      const policy = await m.save(m.create(Policy, { name, settings, isDefault: true, version: 1 }));
      await m.insert(PolicyVersion, { policyId: policy.id, version: 1, name, settings, actor: 'system' });
      await this.audit.record(
        {
          actor: 'system',
          action: 'policy.default_seeded',
          target: name,
          details: { source: 'ENCLAVE_DEFAULT_POLICY' },
          before: null,
          after: this.snapshot(policy),
        },
        m,
      );
      this.logger.log(
        `organization default policy created from ENCLAVE_DEFAULT_POLICY (${Object.keys(settings).length} keys)`,
      );
      return true;
    });
  }

  // ---- validation -------------------------------------------------------------------------------------------

  /**
   * Checks settings by meaning (keys, types, hosts, ports, limits; named people and uploaded images exist) and
   * returns them normalised (people: lower-cased usernames and group ids). Throws VALIDATION_FAILED whose message
   * and details name every key at fault.
   */
  async validate(input: unknown, manager?: EntityManager, field = 'settings'): Promise<PolicySettings> {
    const issues: SettingIssue[] = settingsIssues(input, field);
    const extra: Record<string, unknown> = {};
    const settings = { ...(input as PolicySettings) };
    if (!issues.length) {
      for (const [key, value] of Object.entries(settings)) {
        if (DAEMON_KEYS[key] !== 'people') continue;
        const ref = value as Partial<PeopleSetting>;
        try {
          settings[key] = await this.people.normalize({ users: ref.users ?? [], groups: ref.groups ?? [] }, key);
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== ErrorCode.VALIDATION_FAILED) throw err;
          issues.push({ key, message: err.message });
          extra.unknownUsers = err.details?.unknownUsers;
          extra.unknownGroups = err.details?.unknownGroups;
        }
      }
      const images = imageIds(settings);
      const missing = await this.logos.missing(images, manager);
      if (missing.length) {
        issues.push({
          key: 'Account.uiCustomization',
          message: `Account.uiCustomization: no uploaded logo ${missing.join(', ')}`,
        });
      }
    }
    if (issues.length) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, issues.map((i) => i.message).join('; '), {
        field,
        keys: [...new Set(issues.map((i) => i.key).filter(Boolean))],
        problems: issues.map((i) => i.message),
        ...extra,
      });
    }
    return settings;
  }

  // ---- policies ---------------------------------------------------------------------------------------------

  async list(): Promise<PolicyResponseDto[]> {
    const rows = await this.policies.find({ order: { name: 'ASC' } });
    return Promise.all(rows.map((p) => this.toDto(p)));
  }

  async get(id: string): Promise<PolicyResponseDto> {
    return this.toDto(await this.find(id));
  }

  async getDefault(): Promise<PolicyResponseDto> {
    const p = await this.policies.findOne({ where: { isDefault: true } });
    if (!p) throw new AppError(ErrorCode.POLICY_NOT_FOUND, 'There is no organization default policy');
    return this.toDto(p);
  }

  async create(dto: CreatePolicyDto, actor: string): Promise<PolicyResponseDto> {
    const name = this.name(dto.name);
    try {
      return await this.policies.manager.transaction(async (m) => {
        const settings = this.secrets.seal(await this.validate(dto.settings, m));
        const policy = await m.save(m.create(Policy, { name, settings, version: 1, isDefault: false }));
        await m.insert(PolicyVersion, { policyId: policy.id, version: 1, name, settings, actor });
        await this.audit.record(
          { actor, action: 'policy.created', target: name, before: null, after: this.snapshot(policy) },
          m,
        );
        return this.toDto(policy, m);
      });
    } catch (err) {
      throw this.nameTaken(err, name);
    }
  }

  /** Saves new settings (and optionally a new name) as the next version. */
  async update(id: string, dto: UpdatePolicyDto, actor: string): Promise<PolicyResponseDto> {
    const name = dto.name === undefined ? undefined : this.name(dto.name);
    try {
      return await this.policies.manager.transaction(async (m) => {
        const before = await this.lock(m, id);
        const settings = this.secrets.seal(await this.validate(dto.settings, m), before.settings);
        const version = before.version + 1;
        const next = { name: name ?? before.name, settings, version };
        await m.update(Policy, { id }, next);
        await m.insert(PolicyVersion, { policyId: id, version, name: next.name, settings, actor });
        const after = (await m.findOne(Policy, { where: { id } })) as Policy;
        await this.audit.record(
          {
            actor,
            action: 'policy.updated',
            target: after.name,
            details: { version, diff: this.diff(before.settings, settings) },
            before: this.snapshot(before),
            after: this.snapshot(after),
          },
          m,
        );
        return this.toDto(after, m);
      });
    } catch (err) {
      throw this.nameTaken(err, name ?? '');
    }
  }

  async listVersions(id: string): Promise<PolicyVersionResponseDto[]> {
    await this.find(id);
    const rows = await this.versions.find({ where: { policyId: id }, order: { version: 'ASC' } });
    const out = rows.map((v, i) => {
      const prev = i > 0 ? rows[i - 1] : undefined;
      return {
        version: v.version,
        name: v.name,
        settings: this.secrets.redact(v.settings),
        actor: v.actor,
        createdAt: v.createdAt,
        diff: {
          ...this.diff(prev?.settings ?? {}, v.settings),
          ...(prev && prev.name !== v.name ? { renamedFrom: prev.name } : {}),
        },
      };
    });
    return out.reverse();
  }

  /** Deletes a policy that no group uses and that is not the organization default. */
  async delete(id: string, actor: string): Promise<void> {
    await this.policies.manager.transaction(async (m) => {
      const policy = await this.lock(m, id);
      if (policy.isDefault) {
        throw new AppError(
          ErrorCode.POLICY_IN_USE,
          `Policy "${policy.name}" is the organization default: make another policy the default first`,
          { id, default: true },
        );
      }
      const groups = await this.groups.assignedTo(id, m);
      if (groups.length) {
        throw new AppError(
          ErrorCode.POLICY_IN_USE,
          `Policy "${policy.name}" is assigned to ${groups.map((g) => `"${g.name}"`).join(', ')}: unassign it first`,
          { id, groups },
        );
      }
      await m.delete(Policy, { id });
      await this.audit.record(
        { actor, action: 'policy.deleted', target: policy.name, before: this.snapshot(policy), after: null },
        m,
      );
    });
  }

  /** Makes a policy the organization default (the previous default stays as an ordinary policy). */
  async setDefault(id: string, actor: string): Promise<PolicyResponseDto> {
    return this.policies.manager.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['enclave:default-policy']);
      const policy = await this.lock(m, id, 'policyId');
      const previous = await m.findOne(Policy, { where: { isDefault: true } });
      if (previous?.id !== id) {
        if (previous) await m.update(Policy, { id: previous.id }, { isDefault: false });
        await m.update(Policy, { id }, { isDefault: true });
      }
      await this.audit.record(
        {
          actor,
          action: 'policy.default_set',
          target: policy.name,
          before: { defaultPolicyId: previous?.id ?? null, defaultPolicyName: previous?.name ?? null },
          after: { defaultPolicyId: id, defaultPolicyName: policy.name },
        },
        m,
      );
      return this.toDto((await m.findOne(Policy, { where: { id } })) as Policy, m);
    });
  }

  /** The daemon keys this policy alone delivers (people resolved now). */
  async preview(id: string): Promise<PolicyPreviewResponseDto> {
    const policy = await this.find(id);
    const pending = new Set<string>();
    const keys = await this.deliver(policy.settings, pending);
    return { keys: this.secrets.redact(keys) as DaemonConfig, pending: [...pending].sort() };
  }

  // ---- user overrides and the effective policy --------------------------------------------------------------

  async getUserPolicy(username: string): Promise<UserPolicyResponseDto> {
    const user = await this.user(username);
    const row = await this.userPolicies.findOne({ where: { userId: user.id } });
    return { username: user.username, settings: this.secrets.redact(row?.settings ?? {}) };
  }

  async setUserPolicy(username: string, input: unknown, actor: string): Promise<UserPolicyResponseDto> {
    const user = await this.user(username);
    return this.userPolicies.manager.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`user-policy:${user.id}`]);
      const before = await m.findOne(UserPolicy, { where: { userId: user.id } });
      const settings = this.secrets.seal(await this.validate(input, m), before?.settings);
      await m.upsert(UserPolicy, { userId: user.id, settings }, ['userId']);
      await this.audit.record(
        {
          actor,
          action: 'user.policy_set',
          target: user.username,
          details: { diff: this.diff(before?.settings ?? {}, settings) },
          before: before ? { settings: this.secrets.redact(before.settings) } : null,
          after: { settings: this.secrets.redact(settings) },
        },
        m,
      );
      return { username: user.username, settings: this.secrets.redact(settings) };
    });
  }

  async deleteUserPolicy(username: string, actor: string): Promise<void> {
    const user = await this.user(username);
    await this.userPolicies.manager.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`user-policy:${user.id}`]);
      const before = await m.findOne(UserPolicy, { where: { userId: user.id } });
      if (!before) return;
      await m.delete(UserPolicy, { userId: user.id });
      await this.audit.record(
        {
          actor,
          action: 'user.policy_cleared',
          target: user.username,
          before: { settings: this.secrets.redact(before.settings) },
          after: null,
        },
        m,
      );
    });
  }

  /** The effective policy as admins see it (secrets masked). */
  async effectiveForUsername(username: string): Promise<EffectivePolicyResponseDto> {
    const eff = await this.effective((await this.user(username)).id);
    return { ...eff, keys: this.secrets.redact(eff.keys) as DaemonConfig };
  }

  /** What the user's devices receive (enrollment answer and policyData): flat daemon keys. */
  async forUser(userId: string): Promise<Record<string, string | number | boolean>> {
    return (await this.effective(userId)).keys;
  }

  /** The layered settings of a user, delivered as daemon keys, with the source of each key. */
  async effective(userId: string): Promise<EffectivePolicyResponseDto> {
    const layers: { settings: PolicySettings; source: PolicySourceDto }[] = [];
    const def = await this.policies.findOne({ where: { isDefault: true } });
    if (def)
      layers.push({ settings: def.settings, source: { via: 'default', policyId: def.id, policyName: def.name } });
    const assignments = await this.groups.policyAssignmentsOf(userId);
    if (assignments.length) {
      const byId = new Map(
        (await this.policies.find({ where: { id: In([...new Set(assignments.map((a) => a.policyId))]) } })).map((p) => [
          p.id,
          p,
        ]),
      );
      for (const a of assignments) {
        const p = byId.get(a.policyId);
        if (!p) continue;
        layers.push({
          settings: p.settings,
          source: { via: 'group', policyId: p.id, policyName: p.name, groupId: a.groupId, groupName: a.groupName },
        });
      }
    }
    const own = await this.userPolicies.findOne({ where: { userId } });
    if (own) layers.push({ settings: own.settings, source: { via: 'user', policyId: null, policyName: null } });

    const merged: PolicySettings = {};
    const sources: Record<string, PolicySourceDto> = {};
    for (const layer of layers) {
      for (const [key, value] of Object.entries(layer.settings)) {
        // A layer that sets one spelling of an aliased key replaces the other spelling of lower layers.
        for (const pair of KEY_ALIASES) {
          if (!pair.includes(key)) continue;
          for (const other of pair.filter((k) => k !== key)) {
            delete merged[other];
            delete sources[other];
          }
        }
        merged[key] = value;
        sources[key] = layer.source;
      }
    }
    // Zero-config bootstrap: unless a policy names the bootstrap nodes, devices join the server's own DHT node.
    const bootstrap = serverBootstrap(this.config);
    if (bootstrap && merged['Account.hostname'] === undefined) {
      merged['Account.hostname'] = bootstrap;
      sources['Account.hostname'] = { via: 'server', policyId: null, policyName: null };
    }
    const pending = new Set<string>();
    const keys = await this.deliver(merged, pending);
    for (const [a, b] of KEY_ALIASES) {
      if (sources[a] && !sources[b]) sources[b] = sources[a];
      else if (sources[b] && !sources[a]) sources[a] = sources[b];
    }
    return { keys, sources, pending: [...pending].sort() };
  }

  /** Settings as the daemon reads them: people as `/`-joined Jami IDs, the UI object as JSON text, aliases. */
  private async deliver(settings: PolicySettings, pending: Set<string>): Promise<DaemonConfig> {
    const out: DaemonConfig = {};
    for (const [key, value] of Object.entries(this.secrets.open(settings))) {
      const kind = DAEMON_KEYS[key];
      if (kind === 'people') {
        const resolved = await this.people.resolve(value as PeopleSetting);
        resolved.pending.forEach((u) => pending.add(u));
        out[key] = resolved.jamiIds.join('/');
      } else if (kind === 'ui') {
        out[key] = uiCustomizationText(value as UiCustomizationSetting);
      } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        out[key] = value;
      }
    }
    return toDaemonConfig(out);
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  private async user(username: string) {
    const user = await this.people.userByName(username);
    if (!user)
      throw new AppError(ErrorCode.USER_NOT_FOUND, `No user "${username.slice(0, 64)}"`, {
        username: username.slice(0, 64),
      });
    return user;
  }

  private name(raw: string): string {
    const name = raw.trim();
    if (!name) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must not be blank', { field: 'name' });
    return name;
  }

  private nameTaken(err: unknown, name: string): unknown {
    if (pgCode(err) === '23505') {
      return new AppError(ErrorCode.POLICY_EXISTS, `A policy named "${name}" already exists`, { field: 'name' });
    }
    return err;
  }

  private async find(id: string): Promise<Policy> {
    const p = await this.policies.findOne({ where: { id } });
    if (!p) throw new AppError(ErrorCode.POLICY_NOT_FOUND, `No policy ${id}`, { id });
    return p;
  }

  private async lock(m: EntityManager, id: string, field?: string): Promise<Policy> {
    const p = await m.findOne(Policy, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!p) {
      if (field) throw new AppError(ErrorCode.VALIDATION_FAILED, `${field}: no policy ${id}`, { field });
      throw new AppError(ErrorCode.POLICY_NOT_FOUND, `No policy ${id}`, { id });
    }
    return p;
  }

  /** The audited state of a policy (secrets masked). */
  private snapshot(p: Policy): Record<string, unknown> {
    const settings = this.secrets.redact(p.settings);
    return { id: p.id, name: p.name, version: p.version, isDefault: p.isDefault, settings };
  }

  /** Changed keys, secrets compared in clear (each sealing differs). */
  private diff(before: PolicySettings, after: PolicySettings) {
    return diffSettings(this.secrets.open(before), this.secrets.open(after));
  }

  private async toDto(p: Policy, m?: EntityManager): Promise<PolicyResponseDto> {
    return {
      id: p.id,
      name: p.name,
      version: p.version,
      isDefault: p.isDefault,
      settings: this.secrets.redact(p.settings),
      groups: await this.groups.assignedTo(p.id, m),
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
    };
  }
}
