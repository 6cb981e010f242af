import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, LessThan, Repository } from 'typeorm';
import { AccessToken, TokenScope } from './access-token.entity';

export interface IssuedToken {
  access_token: string;
  expires_in: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Opaque bearer tokens (256 random bits); the database keeps only their SHA-256. */
@Injectable()
export class TokenService {
  constructor(@InjectRepository(AccessToken) private readonly tokens: Repository<AccessToken>) {}

  async issue(
    scope: TokenScope,
    subjectId: string,
    ttlSeconds: number,
    opts: { deviceId?: string; manager?: EntityManager } = {},
  ): Promise<IssuedToken> {
    const token = randomBytes(32).toString('base64url');
    const repo = opts.manager ? opts.manager.getRepository(AccessToken) : this.tokens;
    await repo.insert({
      tokenHash: hashToken(token),
      scope,
      subjectId,
      deviceId: opts.deviceId ?? null,
      expiresAt: new Date(Date.now() + ttlSeconds * 1000),
    });
    return { access_token: token, expires_in: ttlSeconds };
  }

  /** The live token record, or null when unknown or expired. */
  async resolve(token: string): Promise<AccessToken | null> {
    if (!token || token.length > 128) return null;
    const row = await this.tokens.findOne({ where: { tokenHash: hashToken(token) } });
    if (!row || row.expiresAt.getTime() <= Date.now()) return null;
    return row;
  }

  async revokeSubject(subjectId: string, manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(AccessToken) : this.tokens).delete({ subjectId });
  }

  /** Ends the tokens of one device (DEVICE tokens carry its device id). */
  async revokeDevice(deviceId: string, manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(AccessToken) : this.tokens).delete({ deviceId });
  }

  /** Ends a subject's tokens of the given scopes only (e.g. USER tokens after a password change). */
  async revokeSubjectScopes(subjectId: string, scopes: TokenScope[], manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(AccessToken) : this.tokens).delete({ subjectId, scope: In(scopes) });
  }

  async purgeExpired(): Promise<number> {
    const res = await this.tokens.delete({ expiresAt: LessThan(new Date()) });
    return res.affected ?? 0;
  }
}
