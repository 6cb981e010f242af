import { createHash } from 'node:crypto';
import { DeviceIdentity } from '../account/device-identity';
import type { DhtApi } from '../dht/dht-api';
import { keyId } from '../dht/info-hash';
import { pack, unpack } from '../dht/msgpack';
import { createValue, decodeValue, DhtValue, ValueType } from '../dht/value';
import { verifyDeviceAnnouncement } from '../identity/device-announcement';
import { VerifiedDevice, verifyDeviceChain } from '../trust/device-chain';
import { CrlSource, RevocationChecker } from '../trust/revocation';
import { TrustError, TrustErrorCode } from '../trust/trust.errors';
import { accountKey, certificateKey } from './dht-keys';

/** SecureDht publishes its own certificate with value id 1. */
const CERTIFICATE_VALUE_ID = 1n;
const CERTIFICATE_CACHE_MS = 10 * 60_000;

/** A device found in an account's announcements. */
export interface AnnouncedDevice {
  accountId: string;
  deviceShortId: string;
  /** SHA-256 device id, when the announcement carries the device key (Enclave's always do). */
  deviceId?: string;
}

export class DeviceNotFoundError extends Error {}

/** Value id of a device's announcement: stable per device, so a restart replaces rather than adds a value. */
function announcementValueId(deviceShortId: string): bigint {
  const id = createHash('sha256').update(`announce:${deviceShortId}`).digest().readBigUInt64BE();
  return id === 0n ? 1n : id;
}

/** A CRL as Jami puts it on the DHT: an unsigned type-0 value holding the DER as a msgpack bin. */
export function crlValue(der: Buffer): DhtValue {
  let id = createHash('sha256').update(der).digest().readBigUInt64BE();
  if (id === 0n) id = 1n;
  return createValue({ id, type: ValueType.USER_DATA, data: pack(der) });
}

function crlOf(v: DhtValue): Buffer | undefined {
  if (v.owner || v.type !== ValueType.USER_DATA) return undefined;
  try {
    const inner = unpack(v.data);
    return inner instanceof Uint8Array && inner[0] === 0x30 ? Buffer.from(inner) : undefined;
  } catch {
    return undefined;
  }
}

/** The CRLs (DER) among values found at an account's key (unverified: RevocationChecker verifies them). */
export function crlsIn(values: DhtValue[]): Buffer[] {
  return values.map(crlOf).filter((d): d is Buffer => d !== undefined);
}

function chainOf(v: DhtValue): string | undefined {
  if (v.type !== ValueType.CERTIFICATE) return undefined;
  try {
    const inner = unpack(v.data);
    return inner instanceof Uint8Array ? Buffer.from(inner).toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** The devices announced in values found at an account's key (signed by that account, verified). */
export function announcementsIn(
  accountId: string,
  values: DhtValue[],
  log: (message: string, details?: Record<string, unknown>) => void = () => undefined,
): AnnouncedDevice[] {
  const found = new Map<string, AnnouncedDevice>();
  for (const v of values) {
    if (!v.owner || v.type !== ValueType.USER_DATA) continue;
    if (keyId(v.owner).toString('hex') !== accountId) continue;
    try {
      const a = verifyDeviceAnnouncement(v.raw ?? Buffer.alloc(0));
      found.set(a.deviceShortId, { accountId, deviceShortId: a.deviceShortId, deviceId: a.deviceId });
    } catch (err) {
      log('ignored an invalid announcement', { accountId, error: (err as Error).message });
    }
  }
  return [...found.values()];
}

/** Looks up an account's devices on the DHT with any node (no identity needed). */
export async function findAccountDevices(dht: DhtApi, accountId: string): Promise<AnnouncedDevice[]> {
  return announcementsIn(accountId, await dht.get(accountKey(accountId)));
}

/**
 * Presence and identity on the DHT, the way Jami does it: this device's announcement (signed by the account)
 * at the account id, its certificate chain at its key id, the account's CRLs at the account id; and the
 * same for colleagues: their devices from their Jami ID, a device's verified chain from its short id.
 */
export class Presence {
  private readonly chains = new Map<string, { device: VerifiedDevice; at: number }>();

  constructor(
    private readonly dht: DhtApi,
    private readonly identity: DeviceIdentity,
    private readonly revocation: RevocationChecker,
    private readonly log: (message: string, details?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** Publishes (permanently, refreshed before expiry) the announcement and the certificate chain. */
  async publish(): Promise<void> {
    const announce = decodeValue(this.identity.announce);
    const value: DhtValue = { ...announce, id: announcementValueId(this.identity.deviceShortId), raw: undefined };
    const certificate = createValue({
      id: CERTIFICATE_VALUE_ID,
      type: ValueType.CERTIFICATE,
      data: pack(Buffer.from(this.identity.chainPem, 'utf8')),
    });
    await Promise.all([
      this.dht.put(accountKey(this.identity.accountId), value, { permanent: true }),
      this.dht.put(certificateKey(this.identity.deviceShortId), certificate, { permanent: true }),
    ]);
  }

  /** Publishes a CRL of our account (as Jami republishes the CRLs it holds). */
  async publishCrl(der: Buffer): Promise<void> {
    await this.dht.put(accountKey(this.identity.accountId), crlValue(der));
  }

  /** The devices an account announced on the DHT (account signature verified). */
  async devicesOf(accountId: string): Promise<AnnouncedDevice[]> {
    const values = await this.dht.get(accountKey(accountId));
    return this.announcementsIn(accountId, values);
  }

  /** Calls back with newly announced devices of an account; resolves with the cancel function. */
  watchDevices(accountId: string, cb: (devices: AnnouncedDevice[]) => void): Promise<() => void> {
    return this.dht.listen(accountKey(accountId), (values, expired) => {
      if (expired) return;
      const devices = this.announcementsIn(accountId, values);
      if (devices.length > 0) cb(devices);
    });
  }

  /**
   * Listens at an account's key for the CRLs its devices or the Enclave server publish there; calls back
   * with each one (DER, not verified yet). Resolves with the cancel function.
   */
  watchCrls(accountId: string, cb: (der: Buffer) => void): Promise<() => void> {
    return this.dht.listen(accountKey(accountId), (values, expired) => {
      if (!expired) crlsIn(values).forEach(cb);
    });
  }

  /** A CRL source reading the account CRLs published on the DHT. */
  crlSource(): CrlSource {
    return {
      name: 'dht',
      fetch: async (issuerKeyId) => crlsIn(await this.dht.get(accountKey(issuerKeyId))),
    };
  }

  /**
   * The verified chain of a device, from the DHT (cached): it must verify up to the organization CA and
   * certify the key with this short id. Revocation is checked on every call. Throws TrustError, or
   * DeviceNotFoundError when no valid certificate is published.
   */
  async verifyDevice(deviceShortId: string): Promise<VerifiedDevice> {
    const device = await this.chainOf(deviceShortId);
    await this.revocation.checkDevice(device);
    return device;
  }

  /** Verifies a chain received another way (e.g. a cached one) and checks revocation. */
  async verifyChain(chainPem: string): Promise<VerifiedDevice> {
    const device = verifyDeviceChain(chainPem, this.identity.ca);
    await this.revocation.checkDevice(device);
    this.chains.set(device.deviceShortId, { device, at: Date.now() });
    return device;
  }

  private async chainOf(deviceShortId: string): Promise<VerifiedDevice> {
    if (deviceShortId === this.identity.deviceShortId) return this.identity;
    const cached = this.chains.get(deviceShortId);
    if (cached && Date.now() - cached.at < CERTIFICATE_CACHE_MS) {
      // Still currently valid?
      return verifyDeviceChain(cached.device.chainPem, this.identity.ca);
    }
    const values = await this.dht.get(certificateKey(deviceShortId), {
      filter: (v) => v.type === ValueType.CERTIFICATE,
    });
    let lastError: Error | undefined;
    for (const v of values) {
      const chain = chainOf(v);
      if (!chain) continue;
      try {
        const device = verifyDeviceChain(chain, this.identity.ca);
        if (device.deviceShortId !== deviceShortId) {
          throw new TrustError(TrustErrorCode.KEY_MISMATCH, 'a certificate published at another device id');
        }
        this.chains.set(deviceShortId, { device, at: Date.now() });
        return device;
      } catch (err) {
        lastError = err as Error;
        this.log('ignored a device certificate', { deviceShortId, error: lastError.message });
      }
    }
    if (lastError) throw lastError;
    throw new DeviceNotFoundError(`no certificate published for device ${deviceShortId}`);
  }

  private announcementsIn(accountId: string, values: DhtValue[]): AnnouncedDevice[] {
    return announcementsIn(accountId, values, this.log);
  }
}
