import { Account } from '../modules/accounts/account.entity';
import { AuditEvent } from '../modules/audit/audit-event.entity';
import { AuditActionCount } from '../modules/audit/audit-action-count.entity';
import { AccessToken } from '../modules/auth/access-token.entity';
import { Admin } from '../modules/auth/admin.entity';
import { AdminSession } from '../modules/auth/admin-session.entity';
import { PooledAccountKey } from '../modules/ca/account-key.entity';
import { CaSettings } from '../modules/ca/ca-settings.entity';
import { CertificateAuthority } from '../modules/ca/certificate-authority.entity';
import { Crl } from '../modules/ca/crl.entity';
import { IssuedCertificate } from '../modules/ca/issued-certificate.entity';
import { ServerCertificate } from '../modules/ca/server-certificate.entity';
import { SyncItem } from '../modules/jams/sync-item.entity';
import { Setting } from '../modules/setup/setting.entity';
import { DirectoryConfig } from '../modules/directory/directory-config.entity';
import { ProvisioningRun } from '../modules/directory/provisioning-run.entity';
import { DirectorySyncRun } from '../modules/directory/sync-run.entity';
import { Group, GroupMember } from '../modules/groups/group.entity';
import { Policy, PolicyLogo, PolicyVersion, UserPolicy } from '../modules/policy/policy.entity';
import { Room } from '../modules/rooms/room.entity';
import { Device } from '../modules/users/device.entity';
import { User } from '../modules/users/user.entity';

/** Every entity, registered once for the app, the worker, the CLI data source and the drift test. */
export const ENTITIES = [
  AccessToken,
  Account,
  Admin,
  AdminSession,
  AuditEvent,
  CertificateAuthority,
  Device,
  DirectoryConfig,
  DirectorySyncRun,
  Group,
  GroupMember,
  Crl,
  IssuedCertificate,
  Policy,
  PolicyLogo,
  PolicyVersion,
  PooledAccountKey,
  ProvisioningRun,
  Room,
  ServerCertificate,
  Setting,
  SyncItem,
  User,
  UserPolicy,
  // CA operations
  CaSettings,
  AuditActionCount,
];
