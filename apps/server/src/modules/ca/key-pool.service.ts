import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { generateKeyPair, keyId } from '@enclave/pki';
import { EntityManager, Repository } from 'typeorm';
import { SecretBox } from '../../common/secret-box';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { PooledAccountKey } from './account-key.entity';

export const poolKeyPurpose = (id: string) => `account-key:${id}`;

/**
 * Pre-generated RSA-4096 account keys. Generation runs on libuv's thread pool (async
 * crypto.generateKeyPair), never on the event loop, inside the key-pool queue's worker.
 */
@Injectable()
export class KeyPoolService {
  private readonly logger = new Logger(KeyPoolService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(PooledAccountKey) private readonly pool: Repository<PooledAccountKey>,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * Takes the oldest pooled key inside the caller's transaction (rolled back with it on failure); null when
   * the pool is empty. Concurrent takers skip each other's locked rows.
   */
  async take(m: EntityManager): Promise<{ keyId: string; publicKeyPem: string; privateKeySealed: string } | null> {
    const pooled = await m
      .getRepository(PooledAccountKey)
      .createQueryBuilder('k')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .orderBy('k.created_at', 'ASC')
      .limit(1)
      .getOne();
    if (!pooled) return null;
    await m.delete(PooledAccountKey, { id: pooled.id });
    return { keyId: pooled.keyId, publicKeyPem: pooled.publicKeyPem, privateKeySealed: pooled.privateKeySealed };
  }

  /** Whether this key (SHA-1 key id) waits in the pool. */
  holds(keyIdHex: string, m?: EntityManager): Promise<boolean> {
    return (m ? m.getRepository(PooledAccountKey) : this.pool).exists({ where: { keyId: keyIdHex } });
  }

  size(): Promise<number> {
    return this.pool.count();
  }

  /** Tops the pool up to `target` keys (default: ENCLAVE_KEY_POOL_SIZE); returns how many were added. */
  async fill(target = this.config.queue.keyPoolSize, parallel = 2): Promise<number> {
    let added = 0;
    for (;;) {
      const missing = target - (await this.pool.count());
      if (missing <= 0) break;
      const batch = await Promise.all(
        Array.from({ length: Math.min(missing, parallel) }, () => generateKeyPair('RSA-4096')),
      );
      for (const key of batch) {
        const id = keyId(key.publicKeyPem);
        await this.pool.insert({
          keyId: id,
          publicKeyPem: key.publicKeyPem,
          privateKeySealed: this.secrets.seal(key.privateKeyPem, poolKeyPurpose(id)),
        });
        added++;
      }
    }
    if (added) this.logger.log({ added, target }, 'account key pool filled');
    return added;
  }
}
