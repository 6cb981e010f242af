'use client';

import type { Schemas } from '@enclave/api-client';
import { Anchor, Badge, Code, Group, Stack, Text } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { DataTable } from '@/components/ui/data-table';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { $api } from '@/lib/api';

type Policy = Schemas['PolicyResponseDto'];
const col = createColumnHelper<Policy>();
const columns = [
  col.accessor('name', {
    header: 'Policy',
    cell: (c) => (
      <Group gap="xs">
        <Anchor component={Link} href={`/policies/${encodeURIComponent(c.row.original.id)}`} fw={600}>
          {c.getValue()}
        </Anchor>
        {c.row.original.isDefault && (
          <Badge variant="light" color="indigo">
            organization default
          </Badge>
        )}
      </Group>
    ),
  }),
  col.accessor('version', { header: 'Version' }),
  col.accessor('settings', {
    header: 'Keys',
    cell: (c) => (
      <Group gap={4}>
        {Object.keys(c.getValue()).map((k) => (
          <Code key={k}>{k}</Code>
        ))}
      </Group>
    ),
  }),
  col.accessor('groups', {
    header: 'Groups',
    cell: (c) =>
      c
        .getValue()
        .map((g) => `${g.name} (${g.priority})`)
        .join(', ') || '—',
  }),
  col.accessor('updatedAt', {
    header: 'Updated (UTC)',
    cell: (c) => new Date(c.getValue()).toLocaleString('en-GB', { timeZone: 'UTC' }),
  }),
];

export function PoliciesClient() {
  const { data, error, isPending, refetch } = $api.useQuery('get', '/api/admin/policies');
  return (
    <Stack>
      <PageHeader
        title="Policies"
        description="Jami account settings the organization delivers: the default, then groups by priority, then per-user overrides."
      />
      {error ? (
        <ErrorState error={error} onRetry={() => void refetch()} title="Could not load the policies" />
      ) : isPending ? (
        <LoadingState label="Loading policies" />
      ) : data.length === 0 ? (
        <EmptyState title="No policies yet">Policies are created through the admin API for now.</EmptyState>
      ) : (
        <>
          <Text size="sm" c="dimmed">
            {data.length} {data.length === 1 ? 'policy' : 'policies'}
          </Text>
          <DataTable data={data} columns={columns} caption="Policies" rowKey={(p) => p.id} />
        </>
      )}
    </Stack>
  );
}
