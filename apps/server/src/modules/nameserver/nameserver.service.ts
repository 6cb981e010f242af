import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/app-error';
import { UsersRepository } from '../users/users.repository';

/**
 * Every enrolled user's Jami ID resolves to their username and back. Unknown or malformed input is a 404
 * (never 400: current clients read 400 as an invalid response). Suspended and deleted users are not listed.
 */
@Injectable()
export class NameserverService {
  constructor(private readonly users: UsersRepository) {}

  async byName(raw: string): Promise<{ name: string; addr: string }> {
    const user = await this.users.activeByName(raw.trim().toLowerCase());
    if (!user?.jamiId)
      throw new AppError(ErrorCode.NAME_NOT_FOUND, 'name not registered', { error: 'name not registered' });
    return { name: user.username, addr: user.jamiId };
  }

  async byAddress(raw: string): Promise<{ name: string }> {
    const addr = raw.trim().toLowerCase().replace(/^0x/, '');
    const user = /^[0-9a-f]{40}$/.test(addr) ? await this.users.activeByJamiId(addr) : null;
    if (!user)
      throw new AppError(ErrorCode.ADDRESS_NOT_FOUND, 'address not registered', { error: 'address not registered' });
    return { name: user.username };
  }
}
