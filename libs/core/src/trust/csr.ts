import { createPrivateKey, createPublicKey, KeyObject, sign } from 'node:crypto';
import { keyId } from '../dht/info-hash';
import { bitString, der, nullDer, oid, seq, set, toPem, utf8String } from './der';

const OID_COMMON_NAME = '2.5.4.3';
const OID_USER_ID = '0.9.2342.19200300.100.1.1';
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/**
 * The PKCS#10 request a Jami device sends at enrollment (jams-protocol.md §5.2): version 0, subject
 * "CN=Jami device, UID=<40-hex SHA-1 key id>", the device SPKI, no attributes, signed SHA-256 with the device
 * key; PEM with gnutls' "NEW CERTIFICATE REQUEST" label.
 */
export function createDeviceCsr(privateKey: KeyObject | string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('Jami device keys are RSA');
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = seq(
    set(seq(oid(OID_COMMON_NAME), utf8String('Jami device'))),
    set(seq(oid(OID_USER_ID), utf8String(keyId(spki).toString('hex')))),
  );
  const info = seq(der(0x02, Buffer.from([0])), subject, spki, der(0xa0));
  const signature = sign('sha256', info, key);
  const request = seq(info, seq(oid(OID_SHA256_WITH_RSA), nullDer()), bitString(signature));
  return toPem('NEW CERTIFICATE REQUEST', request);
}
