import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Not, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AuditService } from '../audit/audit.service';
import { checkPassword } from '../users/username';
import { AdminSession } from './admin-session.entity';
import { Admin } from './admin.entity';
import { AdminResponseDto, CreateAdminDto, UpdateAdminDto } from './auth.dto';
import { hashPassword } from './password-hasher';
import { AdminRole } from './roles';

const ADMINS_LOCK = 'enclave:admins';

export function toAdminDto(a: Admin): AdminResponseDto {
  return {
    id: a.id,
    username: a.username,
    role: a.role,
    disabled: a.disabled,
    mfaEnabled: !!a.totpEnabledAt,
    createdAt: a.createdAt.toISOString(),
    lastLoginAt: a.lastLoginAt?.toISOString() ?? null,
  };
}

const snapshot = (a: Admin) => ({ role: a.role, disabled: a.disabled });

/** Admin accounts (owners only). The last active owner can be neither demoted, disabled nor deleted. */
@Injectable()
export class AdminsService {
  constructor(
    @InjectRepository(Admin) private readonly admins: Repository<Admin>,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<AdminResponseDto[]> {
    return (await this.admins.find({ order: { username: 'ASC' } })).map(toAdminDto);
  }

  async create(dto: CreateAdminDto, actor: string): Promise<AdminResponseDto> {
    checkPassword(dto.password);
    const passwordHash = await hashPassword(dto.password);
    return this.admins.manager.transaction(async (m) => {
      await lockAdmins(m);
      if (await m.existsBy(Admin, { username: dto.username })) {
        throw new AppError(ErrorCode.ADMIN_EXISTS, `An admin named ${dto.username} already exists`, {
          field: 'username',
        });
      }
      const admin = await m.save(m.create(Admin, { username: dto.username, passwordHash, role: dto.role }));
      await this.audit.record({ actor, action: 'admin.created', target: admin.username, after: snapshot(admin) }, m);
      return toAdminDto(admin);
    });
  }

  async update(username: string, dto: UpdateAdminDto, actor: string): Promise<AdminResponseDto> {
    return this.admins.manager.transaction(async (m) => {
      await lockAdmins(m);
      const admin = await this.find(m, username);
      const before = snapshot(admin);
      const role = dto.role ?? admin.role;
      const disabled = dto.disabled ?? admin.disabled;
      if (isActiveOwner(admin) && (role !== AdminRole.OWNER || disabled)) {
        await this.assertAnotherActiveOwner(m, admin, disabled ? 'disabled' : 'demoted');
      }
      admin.role = role;
      admin.disabled = disabled;
      await m.update(Admin, { id: admin.id }, { role, disabled });
      let endedCredentials = 0;
      if (disabled && !before.disabled) {
        endedCredentials = (await m.delete(AdminSession, { adminId: admin.id })).affected ?? 0;
      }
      await this.audit.record(
        {
          actor,
          action: 'admin.updated',
          target: admin.username,
          before,
          after: snapshot(admin),
          ...(endedCredentials ? { details: { endedCredentials } } : {}),
        },
        m,
      );
      return toAdminDto(admin);
    });
  }

  async remove(username: string, actor: string): Promise<void> {
    await this.admins.manager.transaction(async (m) => {
      await lockAdmins(m);
      const admin = await this.find(m, username);
      if (isActiveOwner(admin)) await this.assertAnotherActiveOwner(m, admin, 'deleted');
      await m.delete(Admin, { id: admin.id });
      await this.audit.record({ actor, action: 'admin.deleted', target: admin.username, before: snapshot(admin) }, m);
    });
  }

  private async find(m: EntityManager, username: string): Promise<Admin> {
    const admin = await m.findOneBy(Admin, { username });
    if (!admin) throw new AppError(ErrorCode.ADMIN_NOT_FOUND, `No admin named ${username}`);
    return admin;
  }

  private async assertAnotherActiveOwner(m: EntityManager, admin: Admin, verb: string): Promise<void> {
    const others = await m.countBy(Admin, { role: AdminRole.OWNER, disabled: false, id: Not(admin.id) });
    if (others === 0) {
      throw new AppError(
        ErrorCode.LAST_OWNER,
        `${admin.username} is the last active owner and cannot be ${verb}; make another admin an owner first`,
      );
    }
  }
}

const isActiveOwner = (a: Admin) => a.role === AdminRole.OWNER && !a.disabled;

/** Serializes admin changes so two owners demoting each other cannot leave none. */
async function lockAdmins(m: EntityManager): Promise<void> {
  await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ADMINS_LOCK]);
}
