'use client';

import type { Schemas } from '@enclave/api-client';
import { Anchor, Badge, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useState } from 'react';
import { DataTable } from '@/components/ui/data-table';
import { useCan } from '@/components/shell/me';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { CreateUserDialog } from '@/components/users/create-user-dialog';
import { displayName, usersQuery } from '@/components/users/query';
import { $api } from '@/lib/api';

type User = Schemas['UserSummaryDto'];
const col = createColumnHelper<User>();
const columns = [
  col.accessor('username', {
    header: 'Username',
    cell: (c) => (
      <Anchor component={Link} href={`/users/${encodeURIComponent(c.getValue())}`} fw={600}>
        {c.getValue()}
      </Anchor>
    ),
  }),
  col.display({ id: 'name', header: 'Name', cell: (c) => displayName(c.row.original) || '—' }),
  col.accessor('email', { header: 'Email', cell: (c) => c.getValue() ?? '—' }),
  col.accessor('source', {
    header: 'Source',
    cell: (c) => (
      <Badge variant="light" color="gray">
        {c.getValue() === 'local' ? 'Local' : c.getValue().toUpperCase()}
      </Badge>
    ),
  }),
  col.accessor('status', {
    header: 'Status',
    cell: (c) => (
      <Badge color={c.getValue() === 'active' ? 'green' : 'orange'} variant="light">
        {c.getValue()}
      </Badge>
    ),
  }),
  col.accessor('jamiId', {
    header: 'Jami ID',
    cell: (c) =>
      c.getValue() ? (
        <Text size="xs" ff="monospace" title={c.getValue() ?? ''}>
          {c.getValue()?.slice(0, 12)}…
        </Text>
      ) : (
        <Text size="xs" c="dimmed">
          not enrolled
        </Text>
      ),
  }),
  col.accessor('createdAt', { header: 'Created', cell: (c) => new Date(c.getValue()).toLocaleDateString('en-GB') }),
];

export function UsersClient() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const [creating, setCreating] = useState(false);
  const canManage = useCan('manage');
  const search = searchParams.get('search') ?? '';
  const [draft, setDraft] = useState(search);
  const cursor = searchParams.get('cursor') ?? '';
  const init = usersQuery({ search, cursor });
  const { data, error, isPending, refetch, isFetching } = $api.useQuery('get', '/api/admin/users', init, {
    placeholderData: (prev) => prev,
  });

  const setParams = (next: { search?: string; cursor?: string }) => {
    const q = new URLSearchParams(searchParams.toString());
    if (next.search !== undefined) {
      if (next.search) q.set('search', next.search);
      else q.delete('search');
      q.delete('cursor');
    }
    if (next.cursor !== undefined) {
      if (next.cursor) q.set('cursor', next.cursor);
      else q.delete('cursor');
    }
    const s = q.toString();
    router.replace(s ? `${pathname}?${s}` : pathname, { scroll: false });
  };
  const debouncedSearch = useDebouncedCallback((value: string) => setParams({ search: value.trim() }), 300);

  return (
    <Stack>
      <PageHeader
        title="Users"
        description="Everyone who can enroll devices: local accounts and users synced from the directory."
        actions={canManage && <Button onClick={() => setCreating(true)}>New user</Button>}
      />
      <TextInput
        label="Search users"
        placeholder="Username, name or email"
        value={draft}
        onChange={(e) => {
          setDraft(e.currentTarget.value);
          debouncedSearch(e.currentTarget.value);
        }}
        maw={420}
      />
      {error ? (
        <ErrorState error={error} onRetry={() => void refetch()} title="Could not load the users" />
      ) : isPending ? (
        <LoadingState label="Loading users" />
      ) : data.items.length === 0 ? (
        search ? (
          <EmptyState title={`No user matches “${search}”`}>
            Search looks at usernames, first and last names and email addresses. Try fewer letters.
          </EmptyState>
        ) : (
          <EmptyState
            title="No users yet"
            action={canManage && <Button onClick={() => setCreating(true)}>Create the first user</Button>}
          >
            Create local users here, or connect a directory (LDAP or Active Directory) to sync them.
          </EmptyState>
        )
      ) : (
        <>
          <Text size="sm" c="dimmed" aria-live="polite">
            {data.items.length} {data.items.length === 1 ? 'user' : 'users'}
            {search ? ` matching “${search}”` : ''}
            {cursor || data.nextCursor ? ' on this page' : ''}
            {isFetching ? ' · updating…' : ''}
          </Text>
          <DataTable data={data.items} columns={columns} caption="Users" rowKey={(u) => u.username} />
          {(cursor || data.nextCursor) && (
            <Group justify="flex-end">
              {cursor && (
                <Button variant="default" onClick={() => setParams({ cursor: '' })}>
                  First page
                </Button>
              )}
              {data.nextCursor && (
                <Button variant="default" onClick={() => setParams({ cursor: data.nextCursor ?? '' })}>
                  Next page
                </Button>
              )}
            </Group>
          )}
        </>
      )}
      <CreateUserDialog opened={creating} onClose={() => setCreating(false)} />
    </Stack>
  );
}
