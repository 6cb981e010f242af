import { SetMetadata } from '@nestjs/common';

/**
 * Admin roles, enforced server-side on every admin route:
 * - owner: everything, CA operations, admins;
 * - admin: users, devices, groups, policies, rooms, directory;
 * - helpdesk: find users, see and revoke devices, reset local passwords, suspend/resume;
 * - auditor: read-only everywhere, including the audit log.
 */
export enum AdminRole {
  OWNER = 'owner',
  ADMIN = 'admin',
  HELPDESK = 'helpdesk',
  AUDITOR = 'auditor',
}

/** Ordered from the most to the least powerful (a token's role may be no higher than its creator's). */
export const ROLE_ORDER: AdminRole[] = [AdminRole.OWNER, AdminRole.ADMIN, AdminRole.HELPDESK, AdminRole.AUDITOR];

export const ROLES_KEY = 'enclave:admin-roles';
export const RECENT_AUTH_KEY = 'enclave:recent-auth';

/** The roles allowed on an admin route. Every admin route carries exactly one (the role table test checks). */
export const Roles = (...roles: AdminRole[]) => SetMetadata(ROLES_KEY, roles);

/** Reads: every role, auditor included. */
export const AnyRole = () => Roles(AdminRole.OWNER, AdminRole.ADMIN, AdminRole.HELPDESK, AdminRole.AUDITOR);

/** Changes to users, devices, groups, policies, rooms and the directory. */
export const AdminOnly = () => Roles(AdminRole.OWNER, AdminRole.ADMIN);

/** Helpdesk work: device revocation, suspend/resume, local password resets. */
export const HelpdeskOrAbove = () => Roles(AdminRole.OWNER, AdminRole.ADMIN, AdminRole.HELPDESK);

/** CA operations and admin management. */
export const OwnerOnly = () => Roles(AdminRole.OWNER);

/** The caller must have re-authenticated (password, plus TOTP when enrolled) within the last 5 minutes. */
export const RequireRecentAuth = () => SetMetadata(RECENT_AUTH_KEY, true);

export const MFA_SETUP_ALLOWED_KEY = 'enclave:mfa-setup-allowed';

/**
 * Routes a session flagged mfaSetupRequired may call (requireMfa is on and the admin has no TOTP yet):
 * /me, /me/mfa/* and logout. Every other route answers 403 MFA_SETUP_REQUIRED for such a session.
 */
export const AllowedDuringMfaSetup = () => SetMetadata(MFA_SETUP_ALLOWED_KEY, true);

/** True when `role` is at most as powerful as `ceiling`. */
export const roleWithin = (role: AdminRole, ceiling: AdminRole): boolean =>
  ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(ceiling);

/** The less powerful of two roles. */
export const lowerRole = (a: AdminRole, b: AdminRole): AdminRole => (roleWithin(a, b) ? a : b);
