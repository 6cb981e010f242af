'use client';

import { AppShell, Box, Button, Group, NavLink, ScrollArea, Stack, Text } from '@mantine/core';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { readCookie } from '@/lib/api';
import { signOut } from '@/lib/actions';
import { IdleWatcher } from './idle-watcher';
import { type AdminRole, allowed, RoleProvider } from './me';
import { isActive, NAV } from './nav';

export function Shell({
  username,
  role,
  idleTimeoutSeconds,
  children,
}: {
  username: string;
  role: AdminRole | undefined;
  idleTimeoutSeconds: number;
  children: ReactNode;
}) {
  const pathname = usePathname();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 232, breakpoint: 'sm' }} padding="lg">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Text component={Link} href="/" fw={800} size="lg" c="indigo.7" td="none">
            ◆ Enclave
          </Text>
          {username && (
            <Group gap="sm">
              <Text size="sm" c="dimmed">
                Signed in as <b>{username}</b>
                {role ? ` (${role})` : ''}
              </Text>
              <Button
                variant="subtle"
                size="xs"
                onClick={async () => {
                  await signOut(readCookie('enclave_csrf') ?? '');
                  window.location.assign('/login');
                }}
              >
                Sign out
              </Button>
            </Group>
          )}
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Sections">
        <ScrollArea>
          <Stack gap="md">
            {NAV.map((s) => ({ ...s, items: s.items.filter((i) => !i.permission || allowed(role, i.permission)) }))
              .filter((section) => section.items.length > 0)
              .map((section) => (
                <Box key={section.group}>
                  <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4}>
                    {section.group}
                  </Text>
                  {section.items.map((item) => (
                    <NavLink
                      key={item.href}
                      component={Link}
                      href={item.href}
                      label={item.label}
                      active={isActive(pathname, item.href)}
                      aria-current={isActive(pathname, item.href) ? 'page' : undefined}
                    />
                  ))}
                </Box>
              ))}
          </Stack>
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <RoleProvider role={role}>{children}</RoleProvider>
      </AppShell.Main>
      {username && <IdleWatcher timeoutSeconds={idleTimeoutSeconds} />}
    </AppShell>
  );
}
