/**
 * The console's sections. Pages for the admin API still to come (admins and MFA, sessions, policies,
 * rooms, audit, CA operations) are added here, with the roles that may see them once the API tells the role.
 */
export interface NavItem {
  href: string;
  label: string;
  description: string;
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
    ],
  },
  {
    group: 'Organization',
    items: [{ href: '/directory', label: 'Directory', description: 'LDAP / Active Directory sync' }],
  },
];

export function isActive(pathname: string, href: string): boolean {
  return href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`);
}
