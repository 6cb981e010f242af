'use client';

import type { Schemas } from '@enclave/api-client';
import { createContext, useContext, type ReactNode } from 'react';

export type AdminRole = Schemas['AdminRole'];

/**
 * What each role may do, mirroring the server's route decorators (apps/server/src/modules/auth/roles.ts).
 * The console only hides what a role may not do; the server enforces it either way.
 */
const ALLOWED = {
  /** Users, groups, policies, rooms and directory changes (AdminOnly). */
  manage: ['owner', 'admin'],
  /** Revoke devices, suspend/resume, reset local passwords (HelpdeskOrAbove). */
  helpdesk: ['owner', 'admin', 'helpdesk'],
  /** CA state and certificate lists (owner and auditor). */
  certificates: ['owner', 'auditor'],
  /** The audit log (owner, admin, auditor). */
  audit: ['owner', 'admin', 'auditor'],
  /** Pages for configuring the organization (reads are open to every role; helpdesk has no use for them). */
  manageOrAudit: ['owner', 'admin', 'auditor'],
  /** Admins and CA operations (OwnerOnly). */
  owner: ['owner'],
} satisfies Record<string, AdminRole[]>;

export type Permission = keyof typeof ALLOWED;

export function allowed(role: AdminRole | undefined, permission: Permission): boolean {
  return !!role && (ALLOWED[permission] as AdminRole[]).includes(role);
}

const RoleContext = createContext<AdminRole | undefined>(undefined);

/** The signed-in admin's role, read once per page load from `GET /api/admin/me` by the layout. */
export function RoleProvider({ role, children }: { role: AdminRole | undefined; children: ReactNode }) {
  return <RoleContext.Provider value={role}>{children}</RoleContext.Provider>;
}

export function useRole(): AdminRole | undefined {
  return useContext(RoleContext);
}

/** Whether the signed-in admin's role may perform `permission`. */
export function useCan(permission: Permission): boolean {
  return allowed(useRole(), permission);
}
