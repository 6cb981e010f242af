import type { Permission } from './me';

/**
 * The console's sections, each with the permission its page needs (none: every role may read it).
 * Pages for the admin API still to come (admins and MFA, sessions, CA operations) are added here.
 */
export interface NavItem {
  href: string;
  label: string;
  description: string;
  permission?: Permission;
}

export const NAV: { group: string; items: NavItem[] }[] = [
  {
    group: 'Overview',
    items: [{ href: '/', label: 'Dashboard', description: 'Users, devices and directory at a glance' }],
  },
  {
    group: 'People',
    items: [
      { href: '/users', label: 'Users', description: 'Staff accounts and their devices' },
      { href: '/devices', label: 'Devices', description: 'Find and revoke a lost device' },
      { href: '/groups', label: 'Groups', description: 'Local and directory groups' },
      {
        href: '/policies',
        label: 'Policies',
        description: 'Jami settings delivered to devices',
        permission: 'manageOrAudit',
      },
    ],
  },
  {
    group: 'Organization',
    items: [
      { href: '/rooms', label: 'Conference rooms', description: 'Meeting rooms, moderators and hosts' },
      { href: '/directory', label: 'Directory', description: 'LDAP / Active Directory sync' },
      { href: '/audit', label: 'Audit log', description: 'Every change, verified', permission: 'audit' },
    ],
  },
];

export function isActive(pathname: string, href: string): boolean {
  return href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`);
}
