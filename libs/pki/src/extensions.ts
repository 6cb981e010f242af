import { isIPv4, isIPv6 } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension, GeneralName, id_ce_subjectAltName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { x509 } from './x509-runtime';

// Builders for the certificate extensions libs/pki writes. Criticality follows RFC 5280: basicConstraints
// and keyUsage critical, the rest not.

function toAsn(extension: x509.Extension): Extension {
  return AsnConvert.parse(extension.rawData, Extension);
}

export function basicConstraintsExtension(ca: boolean, pathLength?: number): Extension {
  return toAsn(new x509.BasicConstraintsExtension(ca, pathLength, true));
}

/** `flags` are KEY_USAGE bits. */
export function keyUsageExtension(flags: number): Extension {
  return toAsn(new x509.KeyUsagesExtension(flags, true));
}

export function serverAuthExtension(): Extension {
  return toAsn(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
}

export function subjectKeyIdentifierExtension(keyIdentifier: Buffer): Extension {
  return toAsn(new x509.SubjectKeyIdentifierExtension(keyIdentifier.toString('hex'), false));
}

export function authorityKeyIdentifierExtension(keyIdentifier: Buffer): Extension {
  return toAsn(new x509.AuthorityKeyIdentifierExtension(keyIdentifier.toString('hex'), false));
}

/** Extensions pointing relying parties at revocation information, for whichever URLs are given. */
export function revocationPointerExtensions(urls: { crlUrl?: string; ocspUrl?: string }): Extension[] {
  const extensions: Extension[] = [];
  if (urls.crlUrl !== undefined) extensions.push(toAsn(new x509.CRLDistributionPointsExtension([urls.crlUrl])));
  if (urls.ocspUrl !== undefined) extensions.push(toAsn(new x509.AuthorityInfoAccessExtension({ ocsp: urls.ocspUrl })));
  return extensions;
}

/** subjectAltName with a dNSName per DNS name and an iPAddress per IPv4/IPv6 literal. */
export function subjectAltNameExtension(hostnames: readonly string[]): Extension {
  const names = hostnames.map((hostname) =>
    isIPv4(hostname) || isIPv6(hostname)
      ? new GeneralName({ iPAddress: expandedIpLiteral(hostname) })
      : new GeneralName({ dNSName: hostname }),
  );
  return new Extension({
    extnID: id_ce_subjectAltName,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(new SubjectAlternativeName(names))),
  });
}

/**
 * An IP literal in the uncompressed form @peculiar/asn1-x509 converts to octets (it does not know the
 * "::ffff:1.2.3.4" notation): dotted quad for IPv4, eight hex groups for IPv6.
 */
function expandedIpLiteral(ip: string): string {
  if (isIPv4(ip)) return ip;
  const bytes = ipv6Bytes(ip);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

/** 16 octets of a valid IPv6 literal (checked by the caller with net.isIPv6). */
export function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : missing).fill('0'), ...restGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  if (tail.length === 4) Buffer.from(tail).copy(bytes, 12);
  return bytes;
}
