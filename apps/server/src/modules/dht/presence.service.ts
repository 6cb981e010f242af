import { Injectable } from '@nestjs/common';
import { AnnouncedDevice, findAccountDevices } from '@enclave/core';
import { AppError, ErrorCode } from '../../common/app-error';
import { UsersService } from '../users/users.service';
import { DeviceAnnouncedDto, UserPresenceResponseDto } from './dht.dto';
import { DhtService } from './dht.service';

/** How long one account's DHT answer is reused (the presence route is read on demand, not polled). */
export const PRESENCE_CACHE_MS = 30_000;
/** Bound on the cache (accounts): the oldest answers go first. */
const PRESENCE_CACHE_MAX = 10_000;

interface CachedAnswer {
  at: number;
  devices: AnnouncedDevice[];
}

/**
 * Whether a user's devices are announced on the DHT now: one DHT get at the account id (the account-signed
 * DeviceAnnouncements every Jami device and agent keeps there), cached for 30 s per account, joined with
 * what the server knows of each device (name, revocation, last login).
 */
@Injectable()
export class PresenceService {
  private readonly cache = new Map<string, CachedAnswer>();
  private readonly inflight = new Map<string, Promise<CachedAnswer>>();

  constructor(
    private readonly dht: DhtService,
    private readonly users: UsersService,
  ) {}

  async ofUser(username: string): Promise<UserPresenceResponseDto> {
    const node = this.dht.node;
    if (!node) {
      throw new AppError(ErrorCode.DHT_DISABLED, 'The server runs no DHT node (ENCLAVE_DHT_PORT=0)');
    }
    const user = await this.users.get(username);
    let answer: CachedAnswer | undefined;
    let cached = false;
    if (user.jamiId) {
      const jamiId = user.jamiId;
      const hit = this.cache.get(jamiId);
      if (hit && Date.now() - hit.at < PRESENCE_CACHE_MS) {
        answer = hit;
        cached = true;
      } else {
        let pending = this.inflight.get(jamiId);
        if (!pending) {
          pending = findAccountDevices(node, jamiId)
            .then((devices) => this.remember(jamiId, { at: Date.now(), devices }))
            .finally(() => this.inflight.delete(jamiId));
          this.inflight.set(jamiId, pending);
        }
        answer = await pending;
      }
    }
    const announced = answer?.devices ?? [];
    const known = new Set(user.devices.map((d) => d.deviceId));
    const devices: DeviceAnnouncedDto[] = user.devices.map((d) => ({
      deviceId: d.deviceId,
      name: d.name,
      revoked: d.revokedAt !== null,
      lastLoginAt: d.lastLoginAt,
      announced: announced.some((a) => a.deviceId === d.deviceId),
    }));
    return {
      username: user.username,
      jamiId: user.jamiId,
      checkedAt: new Date(answer?.at ?? Date.now()).toISOString(),
      cached,
      devices,
      otherAnnouncements: announced
        .filter((a) => !a.deviceId || !known.has(a.deviceId))
        .map((a) => ({ deviceShortId: a.deviceShortId, deviceId: a.deviceId ?? null })),
    };
  }

  private remember(jamiId: string, answer: CachedAnswer): CachedAnswer {
    this.cache.delete(jamiId);
    this.cache.set(jamiId, answer);
    while (this.cache.size > PRESENCE_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return answer;
  }
}
