'use client';

import type { Schemas } from '@enclave/api-client';
import { Anchor, Badge, Card, Group, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { useQueries } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useState } from 'react';
import { DeviceTable } from '@/components/devices/device-table';
import { deviceSearchQuery } from '@/components/devices/query';
import { RevokeDeviceDialog, type RevokeTarget } from '@/components/devices/revoke-device-dialog';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { displayName, userQuery } from '@/components/users/query';
import { $api } from '@/lib/api';

function PersonDevices({
  user,
  onRevoke,
}: {
  user: Schemas['UserResponseDto'];
  onRevoke: (target: RevokeTarget) => void;
}) {
  const name = displayName(user);
  return (
    <Card withBorder padding="md" component="section" aria-label={`${user.username}'s devices`}>
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          <Anchor component={Link} href={`/users/${encodeURIComponent(user.username)}`} fw={700}>
            {name || user.username}
          </Anchor>
          {name && <Text c="dimmed">{user.username}</Text>}
          {user.status !== 'active' && (
            <Badge color="orange" variant="light">
              {user.status}
            </Badge>
          )}
        </Group>
        <Text size="sm" c="dimmed">
          {user.email ?? ''}
        </Text>
      </Group>
      {user.devices.length === 0 ? (
        <Text c="dimmed" size="sm">
          No enrolled device.
        </Text>
      ) : (
        <DeviceTable
          owner={user.username}
          devices={user.devices}
          onRevoke={(device) => onRevoke({ owner: user.username, ownerName: name, device })}
        />
      )}
    </Card>
  );
}

export function DevicesClient() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const q = searchParams.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  const [target, setTarget] = useState<RevokeTarget | null>(null);
  const init = deviceSearchQuery(q);
  const people = $api.useQuery('get', '/api/admin/users', init ?? {}, { enabled: !!init });
  const details = useQueries({
    queries: (init ? (people.data?.items ?? []) : []).map((u) =>
      $api.queryOptions('get', '/api/admin/users/{username}', userQuery(u.username)),
    ),
  });
  const setQuery = useDebouncedCallback((value: string) => {
    const v = value.trim();
    router.replace(v ? `${pathname}?q=${encodeURIComponent(v)}` : pathname, { scroll: false });
  }, 300);

  let body: React.ReactNode;
  if (!init) {
    body = (
      <EmptyState title="Find a device">
        Type the person’s username, name or email. Their devices appear here; revoke the lost one and confirm.
      </EmptyState>
    );
  } else if (people.error) {
    body = <ErrorState error={people.error} onRetry={() => void people.refetch()} title="The search failed" />;
  } else if (people.isPending) {
    body = <LoadingState label="Searching" />;
  } else if (people.data.items.length === 0) {
    body = (
      <EmptyState title={`Nobody matches “${q}”`}>
        Search looks at usernames, names and email addresses. Check the spelling or try part of the name.
      </EmptyState>
    );
  } else {
    body = (
      <Stack>
        <Text size="sm" c="dimmed" aria-live="polite">
          {people.data.total} {people.data.total === 1 ? 'person' : 'people'} matching “{q}”
          {people.data.total > people.data.items.length ? ` (first ${people.data.items.length} shown)` : ''}
        </Text>
        {details.map((d, i) =>
          d.error ? (
            <ErrorState key={i} error={d.error} onRetry={() => void d.refetch()} />
          ) : d.data ? (
            <PersonDevices key={d.data.username} user={d.data} onRevoke={setTarget} />
          ) : (
            <LoadingState key={i} label="Loading devices" />
          ),
        )}
      </Stack>
    );
  }

  return (
    <Stack>
      <PageHeader title="Devices" description="A laptop or phone was lost or stolen? Find its owner and revoke it." />
      <TextInput
        label="Find a person or their device"
        placeholder="Username, name or email"
        size="md"
        autoFocus
        value={draft}
        onChange={(e) => {
          setDraft(e.currentTarget.value);
          setQuery(e.currentTarget.value);
        }}
        maw={520}
      />
      {body}
      <RevokeDeviceDialog target={target} onClose={() => setTarget(null)} />
    </Stack>
  );
}
