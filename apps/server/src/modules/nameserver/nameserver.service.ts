import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { User } from '../users/user.entity';

/**
 * Every enrolled user's Jami ID resolves to their username and back. Unknown or malformed input is a 404
 * (never 400: current clients read 400 as an invalid response). Suspended users are not listed.
 */
@Injectable()
export class NameserverService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async byName(raw: string): Promise<{ name: string; addr: string }> {
    const name = raw.trim().toLowerCase();
    const user =
      name.length <= 64
        ? await this.users.findOne({ where: { username: name, status: 'active', jamiId: Not(IsNull()) } })
        : null;
    if (!user?.jamiId)
      throw new AppError(ErrorCode.NAME_NOT_FOUND, 'name not registered', { error: 'name not registered' });
    return { name: user.username, addr: user.jamiId };
  }

  async byAddress(raw: string): Promise<{ name: string }> {
    const addr = raw.trim().toLowerCase().replace(/^0x/, '');
    const user = /^[0-9a-f]{40}$/.test(addr)
      ? await this.users.findOne({ where: { jamiId: addr, status: 'active' } })
      : null;
    if (!user)
      throw new AppError(ErrorCode.ADDRESS_NOT_FOUND, 'address not registered', { error: 'address not registered' });
    return { name: user.username };
  }
}
