'use client';

import type { Schemas } from '@enclave/api-client';
import { Badge, Code, Stack, Text } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { DataTable } from '@/components/ui/data-table';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { $api } from '@/lib/api';

type GroupRow = Schemas['GroupResponseDto'];
const col = createColumnHelper<GroupRow>();
const columns = [
  col.accessor('name', { header: 'Group', cell: (c) => <Text fw={600}>{c.getValue()}</Text> }),
  col.accessor('source', {
    header: 'Source',
    cell: (c) => (
      <Badge variant="light" color={c.getValue() === 'local' ? 'gray' : 'blue'}>
        {c.getValue() === 'local' ? 'Local' : c.getValue().toUpperCase()}
      </Badge>
    ),
  }),
  col.accessor('memberCount', { header: 'Members' }),
  col.accessor('policyName', {
    header: 'Policy',
    cell: (c) =>
      c.getValue() ? (
        <Code>{c.getValue()}</Code>
      ) : (
        <Text c="dimmed" size="sm">
          none (organization default)
        </Text>
      ),
  }),
  col.accessor('priority', { header: 'Priority' }),
];

export function GroupsClient() {
  const { data, error, isPending, refetch } = $api.useQuery('get', '/api/admin/groups');
  return (
    <Stack>
      <PageHeader
        title="Groups"
        description="Directory groups (synced, membership read-only) and the Jami settings their members receive."
      />
      {error ? (
        <ErrorState error={error} onRetry={() => void refetch()} title="Could not load the groups" />
      ) : isPending ? (
        <LoadingState label="Loading groups" />
      ) : data.length === 0 ? (
        <EmptyState title="No groups yet">
          Groups come from the directory: set a group base DN on the Directory page and run a sync.
        </EmptyState>
      ) : (
        <DataTable data={data} columns={columns} caption="Groups" rowKey={(g) => g.id} />
      )}
    </Stack>
  );
}
