'use client';

import type { Schemas } from '@enclave/api-client';
import { Anchor, Badge, Button, Stack, Text } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { useState } from 'react';
import { CreateRoomDialog } from '@/components/rooms/create-room-dialog';
import { useCan } from '@/components/shell/me';
import { DataTable } from '@/components/ui/data-table';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { $api } from '@/lib/api';

type Room = Schemas['RoomDto'];
const col = createColumnHelper<Room>();
const people = (p: Schemas['ResolvedPeopleDto']) =>
  [...p.users, ...p.groups.map((g) => `${g.name} (group)`)].join(', ') || '—';
const columns = [
  col.accessor('name', {
    header: 'Room',
    cell: (c) => (
      <Anchor component={Link} href={`/rooms/${encodeURIComponent(c.getValue())}`} fw={600}>
        {c.getValue()}
      </Anchor>
    ),
  }),
  col.accessor('displayName', { header: 'Display name' }),
  col.accessor('moderators', { header: 'Moderators', cell: (c) => people(c.getValue()) }),
  col.accessor('members', { header: 'Members', cell: (c) => (c.getValue() ? people(c.getValue()!) : 'Everyone') }),
  col.accessor('host', {
    header: 'Host',
    cell: (c) =>
      c.getValue().online ? (
        <Badge color="green" variant="light">
          online
        </Badge>
      ) : c.getValue().deviceId ? (
        <Badge color="gray" variant="light">
          offline
        </Badge>
      ) : (
        <Badge color="orange" variant="light">
          not enrolled
        </Badge>
      ),
  }),
];

export function RoomsClient() {
  const canManage = useCan('manage');
  const [creating, setCreating] = useState(false);
  const { data, error, isPending, refetch } = $api.useQuery('get', '/api/admin/rooms');
  return (
    <Stack>
      <PageHeader
        title="Conference rooms"
        description="Meeting-room accounts hosting group calls, with their default moderators and members."
        actions={canManage && <Button onClick={() => setCreating(true)}>New room</Button>}
      />
      {error ? (
        <ErrorState error={error} onRetry={() => void refetch()} title="Could not load the rooms" />
      ) : isPending ? (
        <LoadingState label="Loading rooms" />
      ) : data.length === 0 ? (
        <EmptyState title="No rooms yet">
          A room is an account a meeting-room machine hosts calls with. Create one, then enroll its host.
        </EmptyState>
      ) : (
        <>
          <Text size="sm" c="dimmed">
            {data.length} {data.length === 1 ? 'room' : 'rooms'}
          </Text>
          <DataTable data={data} columns={columns} caption="Conference rooms" rowKey={(r) => r.name} />
        </>
      )}
      <CreateRoomDialog opened={creating} onClose={() => setCreating(false)} />
    </Stack>
  );
}
