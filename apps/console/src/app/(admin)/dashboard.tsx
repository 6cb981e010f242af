'use client';

import { BarChart } from '@mantine/charts';
import { Anchor, Badge, Card, Group, SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useCan } from '@/components/shell/me';
import { $api } from '@/lib/api';

/** Counts come from the first keyset page of each list: up to COUNT_LIMIT, then shown as "200+". */
const COUNT_LIMIT = 200;
export const USERS_COUNT_QUERY = { params: { query: { limit: COUNT_LIMIT } } };
export const ACTIVE_DEVICES_QUERY = { params: { query: { status: 'active' as const, limit: COUNT_LIMIT } } };
const expiringQuery = (days: number) => ({ params: { query: { expiringWithinDays: days, limit: COUNT_LIMIT } } });

function count(list: { items: unknown[]; nextCursor: string | null } | undefined, width = 80): ReactNode {
  if (!list) return <Skeleton h={38} w={width} />;
  return `${list.items.length.toLocaleString('en-GB')}${list.nextCursor ? '+' : ''}`;
}

function Stat({ label, value, hint, href }: { label: string; value: ReactNode; hint?: ReactNode; href?: string }) {
  return (
    <Card withBorder padding="lg" component="section" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fz={32} fw={700} lh={1.2} mt={4}>
        {value}
      </Text>
      {hint && (
        <Text size="sm" c="dimmed" mt={4} component="div">
          {hint}
        </Text>
      )}
      {href && (
        <Anchor component={Link} href={href} size="sm" mt="xs" display="block">
          Open {label.toLowerCase()} →
        </Anchor>
      )}
    </Card>
  );
}

const SYNC_COLOR: Record<string, string> = {
  succeeded: 'green',
  failed: 'red',
  awaiting_confirmation: 'orange',
  running: 'blue',
};

export function DashboardClient() {
  const canSeeCertificates = useCan('certificates');
  const users = $api.useQuery('get', '/api/admin/users', USERS_COUNT_QUERY);
  const devices = $api.useQuery('get', '/api/admin/devices', ACTIVE_DEVICES_QUERY);
  const expiring30 = $api.useQuery('get', '/api/admin/certificates', expiringQuery(30), {
    enabled: canSeeCertificates,
  });
  const expiring90 = $api.useQuery('get', '/api/admin/certificates', expiringQuery(90), {
    enabled: canSeeCertificates,
  });
  const groups = $api.useQuery('get', '/api/admin/groups');
  const directory = $api.useQuery('get', '/api/admin/directory');
  const runs = $api.useQuery('get', '/api/admin/directory/sync-runs');
  const lastRun = runs.data?.[0];
  const history = (runs.data ?? [])
    .slice(0, 12)
    .reverse()
    .map((r) => ({
      run: r.startedAt
        ? new Date(r.startedAt).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'UTC' })
        : r.status,
      Added: r.added,
      Updated: r.updated,
      Suspended: r.suspended,
    }));
  const groupSizes = [...(groups.data ?? [])]
    .sort((a, b) => b.memberCount - a.memberCount)
    .slice(0, 8)
    .map((g) => ({ group: g.name, Members: g.memberCount }));

  const firstError =
    users.error ??
    devices.error ??
    groups.error ??
    directory.error ??
    runs.error ??
    expiring30.error ??
    expiring90.error;
  return (
    <Stack>
      <PageHeader title="Dashboard" description="Your organization on Enclave at a glance." />
      {firstError && <ErrorState error={firstError} title="Part of the dashboard could not load" />}
      <SimpleGrid cols={{ base: 2, lg: 3 }}>
        <Stat label="Users" value={count(users.data)} hint="Local and directory accounts" href="/users" />
        <Stat label="Active devices" value={count(devices.data)} hint="Enrolled and not revoked" href="/devices" />
        <Stat
          label="Groups"
          value={groups.data ? groups.data.length : <Skeleton h={38} w={60} />}
          hint={groups.data ? `${groups.data.filter((g) => g.policyId !== null).length} with a policy` : ' '}
          href="/groups"
        />
        <Stat
          label="Directory"
          value={
            directory.data ? (
              directory.data.type === 'local' ? (
                'Local'
              ) : (
                directory.data.type.toUpperCase()
              )
            ) : (
              <Skeleton h={38} w={80} />
            )
          }
          hint={
            directory.data && directory.data.type !== 'local' ? directory.data.url : 'Users are created in the console'
          }
          href="/directory"
        />
        <Stat
          label="Last directory sync"
          value={
            runs.isPending ? (
              <Skeleton h={38} w={120} />
            ) : lastRun ? (
              <Badge size="lg" color={SYNC_COLOR[lastRun.status] ?? 'gray'} variant="light">
                {lastRun.status.replace('_', ' ')}
              </Badge>
            ) : (
              'Never'
            )
          }
          hint={
            lastRun
              ? `${lastRun.startedAt ? new Date(lastRun.startedAt).toLocaleString('en-GB', { timeZone: 'UTC' }) + ' UTC' : 'queued'} · ${lastRun.added} added, ${lastRun.suspended} suspended`
              : 'No sync has run'
          }
        />
        {canSeeCertificates && (
          <Stat
            label="Certificates expiring"
            value={count(expiring30.data)}
            hint={<>within 30 days · {expiring90.data ? count(expiring90.data) : '…'} within 90 days</>}
          />
        )}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder padding="lg">
          <Title order={2} size="h4" mb="md">
            Directory sync runs
          </Title>
          {history.length === 0 ? (
            <EmptyState title="No sync yet">
              Connect LDAP or Active Directory on the Directory page to sync users.
            </EmptyState>
          ) : (
            <BarChart
              textColor="gray.7"
              h={240}
              data={history}
              dataKey="run"
              type="stacked"
              withLegend
              series={[
                { name: 'Added', color: 'teal.6' },
                { name: 'Updated', color: 'indigo.5' },
                { name: 'Suspended', color: 'orange.6' },
              ]}
            />
          )}
        </Card>
        <Card withBorder padding="lg">
          <Title order={2} size="h4" mb="md">
            Largest groups
          </Title>
          {groupSizes.length === 0 ? (
            <EmptyState title="No groups yet">
              Directory groups appear here after a sync with a group base DN.
            </EmptyState>
          ) : (
            <BarChart
              textColor="gray.7"
              h={240}
              data={groupSizes}
              dataKey="group"
              orientation="vertical"
              series={[{ name: 'Members', color: 'indigo.6' }]}
            />
          )}
        </Card>
      </SimpleGrid>
      <Group>
        <Text size="sm" c="dimmed">
          Lost a laptop?{' '}
          <Anchor component={Link} href="/devices">
            Find and revoke it
          </Anchor>
          .
        </Text>
      </Group>
    </Stack>
  );
}
