import type { AttributeMap, DirectoryConfig, DirectoryType } from './directory-config.entity';
import { LdapEntry } from './ldap-connection';

/** What differs between an LDAP directory and Active Directory. */
export interface DirectoryFlavor {
  userFilter: string;
  usernameAttribute: string;
  attributeMap: AttributeMap;
  /** Stable id: renames keep it. */
  idAttribute: string;
  /** Change marker for incremental syncs. */
  versionAttribute: string;
  groupFilter: string;
}

export const FLAVORS: Record<Exclude<DirectoryType, 'local'>, DirectoryFlavor> = {
  ldap: {
    userFilter: '(objectClass=inetOrgPerson)',
    usernameAttribute: 'uid',
    attributeMap: {
      firstName: 'givenName',
      lastName: 'sn',
      email: 'mail',
      phone: 'telephoneNumber',
      photo: 'jpegPhoto',
    },
    idAttribute: 'entryUUID',
    versionAttribute: 'modifyTimestamp',
    groupFilter: '(objectClass=groupOfNames)',
  },
  ad: {
    userFilter: '(&(objectClass=user)(!(objectClass=computer)))',
    usernameAttribute: 'sAMAccountName',
    attributeMap: {
      firstName: 'givenName',
      lastName: 'sn',
      email: 'mail',
      phone: 'telephoneNumber',
      photo: 'thumbnailPhoto',
    },
    idAttribute: 'objectGUID',
    versionAttribute: 'uSNChanged',
    groupFilter: '(objectClass=group)',
  },
};

/** AD: userAccountControl bit 0x2 = ACCOUNTDISABLE. */
const AD_DISABLED = 0x2;

export interface DirectoryUser {
  externalId: string;
  /** As in the directory (lower-cased later). */
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

export function flavorOf(config: DirectoryConfig): DirectoryFlavor {
  if (config.type === 'local') throw new Error('the local directory has no flavor');
  return FLAVORS[config.type];
}

export function userAttributes(config: DirectoryConfig): string[] {
  const f = flavorOf(config);
  const map = config.attributeMap;
  const attrs = [
    config.usernameAttribute,
    f.idAttribute,
    f.versionAttribute,
    map.firstName,
    map.lastName,
    map.email,
    map.phone,
    map.photo,
  ];
  if (config.type === 'ad') attrs.push('userAccountControl', 'userPrincipalName');
  return [...new Set(attrs.filter(Boolean))];
}

const first = (e: LdapEntry, attr: string): string | null => (attr ? (e.text[attr.toLowerCase()]?.[0] ?? null) : null);

/** Maps a directory entry to a user record; null (with the reason) when it cannot become an Enclave user. */
export function toDirectoryUser(config: DirectoryConfig, e: LdapEntry): { user: DirectoryUser } | { error: string } {
  const f = flavorOf(config);
  const idBytes = e.bytes[f.idAttribute.toLowerCase()]?.[0];
  const externalId =
    config.type === 'ad'
      ? idBytes && idBytes.length === 16
        ? idBytes.toString('hex')
        : null
      : first(e, f.idAttribute)?.toLowerCase();
  if (!externalId) return { error: `${e.dn}: no ${f.idAttribute}` };
  const username = first(e, config.usernameAttribute);
  if (!username) return { error: `${e.dn}: no ${config.usernameAttribute}` };
  const photoAttr = config.attributeMap.photo?.toLowerCase();
  const uac = config.type === 'ad' ? Number(first(e, 'userAccountControl') ?? 0) : 0;
  return {
    user: {
      externalId,
      username,
      dn: e.dn,
      firstName: first(e, config.attributeMap.firstName),
      lastName: first(e, config.attributeMap.lastName),
      email: first(e, config.attributeMap.email)?.toLowerCase() ?? null,
      phone: first(e, config.attributeMap.phone),
      photo: photoAttr ? (e.bytes[photoAttr]?.[0] ?? null) : null,
      version: first(e, f.versionAttribute),
      disabled: (uac & AD_DISABLED) !== 0,
    },
  };
}
