import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, Not, Repository } from 'typeorm';
import { RELEASED_NAME_PREFIX, User, USER_SEARCH_EXPRESSION, UserSource, UserStatus } from './user.entity';

/** A directory entry mapped to user columns, as the directory sync upserts it. */
export interface UserPageQuery {
  /** Lower-cased fragment matched anywhere in username, names and email. */
  search?: string;
  status?: UserStatus;
  source?: UserSource;
  groupId?: string;
  /** Usernames strictly after this one. */
  after?: string;
  limit: number;
}

export interface DirectoryUserRow {
  externalId: string;
  username: string;
  dn: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  photo: Buffer | null;
  version: string | null;
  disabled: boolean;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** PostgreSQL text cannot hold NUL: such a name matches nobody (instead of a database error). */
const unqueryable = (s: string) => s.length > 64 || s.includes('\0');

/**
 * The users table, for the users module and the modules that act on users (accounts, JAMS, name server,
 * directory sync). Every write takes the caller's EntityManager when it belongs to a larger transaction.
 */
@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  private repo(m?: EntityManager): Repository<User> {
    return m ? m.getRepository(User) : this.users;
  }

  byId(id: string, m?: EntityManager): Promise<User | null> {
    return this.repo(m).findOne({ where: { id } });
  }

  /** Locks the row until the caller's transaction ends. */
  lockById(id: string, m: EntityManager): Promise<User | null> {
    return this.repo(m).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Exact (already normalised) username. */
  byUsername(username: string, m?: EntityManager): Promise<User | null> {
    if (unqueryable(username)) return Promise.resolve(null);
    return this.repo(m).findOne({ where: { username } });
  }

  async insert(fields: Partial<User>, m?: EntityManager): Promise<User> {
    const repo = this.repo(m);
    return repo.save(repo.create(fields));
  }

  async update(id: string, fields: Partial<User>, m?: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, fields as never);
  }

  async photo(id: string): Promise<Buffer | null> {
    const row = await this.users
      .createQueryBuilder('u')
      .select('u.photo', 'photo')
      .where('u.id = :id', { id })
      .getRawOne<{ photo: Buffer | null }>();
    return row?.photo ?? null;
  }

  /** An active user with an account, by username (the name server). */
  activeByName(username: string): Promise<User | null> {
    if (unqueryable(username)) return Promise.resolve(null);
    return this.users.findOne({ where: { username, status: 'active', jamiId: Not(IsNull()) } });
  }

  /** An active user by Jami ID (the name server). */
  activeByJamiId(jamiId: string): Promise<User | null> {
    return this.users.findOne({ where: { jamiId, status: 'active' } });
  }

  /** Enrolled, active users whose username, names or email contain `query` (`*`: everyone), at most `limit`. */
  searchEnrolled(rawQuery: string, limit: number): Promise<User[]> {
    const query = rawQuery.replace(/\0/g, '');
    if (!query) return Promise.resolve([]);
    const base = { status: 'active' as const, jamiId: Not(IsNull()) };
    if (query === '*') return this.users.find({ where: base, order: { username: 'ASC' }, take: limit });
    return this.users
      .createQueryBuilder('u')
      .where("u.status = 'active' AND u.jami_id IS NOT NULL")
      .andWhere(
        '(u.username ILIKE :like OR u.first_name ILIKE :like OR u.last_name ILIKE :like OR u.email ILIKE :like)',
        { like: `%${escapeLike(query)}%` },
      )
      .orderBy('u.username', 'ASC')
      .take(limit)
      .getMany();
  }

  /**
   * One keyset page ordered by username (deleted users excluded): the search uses the pg_trgm index on
   * USER_SEARCH_EXPRESSION, the page the unique username index. Returns up to `limit + 1` rows so the
   * caller knows whether another page follows.
   */
  page(q: UserPageQuery): Promise<User[]> {
    const qb = this.users.createQueryBuilder('u').where("u.status <> 'deleted' AND u.kind = 'user'");
    if (q.status) qb.andWhere('u.status = :status', { status: q.status });
    if (q.source) qb.andWhere('u.source = :source', { source: q.source });
    if (q.groupId) {
      qb.andWhere('EXISTS (SELECT 1 FROM group_members gm WHERE gm.user_id = u.id AND gm.group_id = :groupId)', {
        groupId: q.groupId,
      });
    }
    if (q.search) {
      qb.andWhere(
        `${USER_SEARCH_EXPRESSION.replace(/\b(username|first_name|last_name|email)\b/g, 'u.$1')} LIKE :like`,
        {
          like: `%${escapeLike(q.search.toLowerCase())}%`,
        },
      );
    }
    if (q.after) qb.andWhere('u.username > :after', { after: q.after });
    return qb
      .orderBy('u.username', 'ASC')
      .limit(q.limit + 1)
      .getMany();
  }

  /** Tombstones: deleted users whose name is still reserved, newest first. */
  tombstones(): Promise<User[]> {
    return this.users
      .createQueryBuilder('u')
      .where("u.status = 'deleted' AND left(u.username, 1) <> :prefix", { prefix: RELEASED_NAME_PREFIX })
      .orderBy('u.deleted_at', 'DESC')
      .getMany();
  }

  byExternalId(externalId: string): Promise<User | null> {
    return this.users.findOne({ where: { externalId } });
  }

  // Directory sync port: set-based reads and writes over one page of directory entries.

  /** username → external id and tombstone flag of the users holding these names. */
  async nameOwners(usernames: string[]): Promise<Map<string, { externalId: string | null; deleted: boolean }>> {
    const rows: { username: string; external_id: string | null; deleted: boolean }[] = await this.users.query(
      "SELECT username, external_id, status = 'deleted' AS deleted FROM users WHERE username = ANY($1)",
      [usernames],
    );
    return new Map(rows.map((r) => [r.username, { externalId: r.external_id, deleted: r.deleted }]));
  }

  /**
   * One statement per page: new users inserted, changed ones updated (renames included), unchanged ones
   * untouched; deleted users (tombstones) are never touched. Returns how many rows were inserted / updated.
   */
  async upsertDirectoryUsers(
    source: 'ldap' | 'ad',
    rows: DirectoryUserRow[],
  ): Promise<{ inserted: number; updated: number }> {
    const col = <K extends keyof DirectoryUserRow>(k: K) => rows.map((u) => u[k]);
    const result: { inserted: boolean }[] = await this.users.query(
      `INSERT INTO users (external_id, username, dn, first_name, last_name, email, phone, photo, directory_version, source, status, suspended_reason)
         SELECT t.external_id, t.username, t.dn, t.first_name, t.last_name, t.email, t.phone, t.photo, t.version, $11,
                CASE WHEN t.disabled THEN 'suspended' ELSE 'active' END, CASE WHEN t.disabled THEN 'directory' END
         FROM unnest($1::varchar[], $2::varchar[], $3::text[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[], $8::bytea[], $9::varchar[], $10::boolean[])
              AS t(external_id, username, dn, first_name, last_name, email, phone, photo, version, disabled)
         ON CONFLICT (external_id) DO UPDATE SET
           username = EXCLUDED.username, dn = EXCLUDED.dn, first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
           email = EXCLUDED.email, phone = EXCLUDED.phone, photo = EXCLUDED.photo,
           directory_version = EXCLUDED.directory_version, source = EXCLUDED.source, updated_at = now()
         WHERE users.status <> 'deleted' AND (users.directory_version IS DISTINCT FROM EXCLUDED.directory_version
            OR users.username IS DISTINCT FROM EXCLUDED.username OR users.dn IS DISTINCT FROM EXCLUDED.dn)
         RETURNING (xmax = 0) AS inserted`,
      [
        col('externalId'),
        col('username'),
        col('dn'),
        col('firstName'),
        col('lastName'),
        col('email'),
        col('phone'),
        col('photo'),
        col('version'),
        col('disabled'),
        source,
      ],
    );
    const inserted = result.filter((r) => r.inserted).length;
    return { inserted, updated: result.length - inserted };
  }

  /** id, external id, status and suspension reason of the users with these directory ids. */
  byExternalIds(
    externalIds: string[],
  ): Promise<{ id: string; external_id: string; status: string; suspended_reason: string | null }[]> {
    return this.users.query('SELECT id, external_id, status, suspended_reason FROM users WHERE external_id = ANY($1)', [
      externalIds,
    ]);
  }

  /** Active users of a directory source: id and directory id. */
  activeFromSource(source: UserSource): Promise<{ id: string; external_id: string }[]> {
    return this.users.query(
      `SELECT id, external_id FROM users WHERE source = $1 AND status = 'active' AND external_id IS NOT NULL`,
      [source],
    );
  }

  countActiveFromSource(source: UserSource): Promise<number> {
    return this.users.count({ where: { source, status: 'active' } });
  }

  /** Reactivates users the directory had suspended. */
  async reactivate(ids: string[]): Promise<void> {
    await this.users.update({ id: In(ids) }, { status: 'active', suspendedReason: null });
  }

  /** Ids of users whose DN is one of these (lower-cased) DNs. */
  async idsByDn(dns: string[], m?: EntityManager): Promise<string[]> {
    if (!dns.length) return [];
    const rows: { id: string }[] = await this.repo(m).query('SELECT id FROM users WHERE lower(dn) = ANY($1)', [dns]);
    return rows.map((r) => r.id);
  }

  /** People (room accounts left out) per status and source, for /metrics. */
  async countByStatusAndSource(): Promise<{ status: string; source: string; count: number }[]> {
    const rows = await this.users
      .createQueryBuilder('u')
      .select('u.status', 'status')
      .addSelect('u.source', 'source')
      .addSelect('COUNT(*)', 'count')
      .where("u.kind = 'user'")
      .groupBy('u.status')
      .addGroupBy('u.source')
      .getRawMany<{ status: string; source: string; count: string }>();
    return rows.map((r) => ({ status: r.status, source: r.source, count: Number(r.count) }));
  }
}
