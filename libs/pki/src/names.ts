import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { x509 } from './x509-runtime';

export const OID_COMMON_NAME = '2.5.4.3';
export const OID_ORGANIZATION = '2.5.4.10';
/** userid (RFC 4519); Jami puts the 40-hex key ID here. */
export const OID_USER_ID = '0.9.2342.19200300.100.1.1';

const EXTRA_NAMES = { UID: OID_USER_ID };

/** A Name with one attribute per RDN, in the given order, all values as UTF8String (RFC 5280 §4.1.2.6). */
export function buildName(attributes: readonly (readonly [oid: string, value: string | undefined])[]): Name {
  const rdns = attributes
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(
      ([type, value]) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
        ]),
    );
  return new Name(rdns);
}

/** "CN=alice, UID=0123..., O=Acme" in encoding order. */
export function formatName(name: Name | Uint8Array): string {
  const asn = name instanceof Name ? name : AsnConvert.parse(name, Name);
  return new x509.Name(asn, EXTRA_NAMES).toString();
}
