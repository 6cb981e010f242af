'use client';

import type { Schemas } from '@enclave/api-client';
import { Anchor, Badge, Breadcrumbs, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import Link from 'next/link';
import { useCallback, useState } from 'react';
import { DeviceTable } from '@/components/devices/device-table';
import { useCan } from '@/components/shell/me';
import { RevokeDeviceDialog, type RevokeTarget } from '@/components/devices/revoke-device-dialog';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { displayName, userQuery } from '@/components/users/query';
import { $api, type ApiError } from '@/lib/api';

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text component="div">{children}</Text>
    </Stack>
  );
}

export function UserClient({ username }: { username: string }) {
  const {
    data: user,
    error,
    isPending,
    refetch,
  } = $api.useQuery('get', '/api/admin/users/{username}', userQuery(username));
  const [target, setTarget] = useState<RevokeTarget | null>(null);
  const canRevoke = useCan('helpdesk');
  const onRevoke = useCallback(
    (device: Schemas['DeviceSummaryDto']) =>
      user && setTarget({ owner: user.username, ownerName: displayName(user), device }),
    [user],
  );

  const crumbs = (
    <Breadcrumbs mb="sm">
      <Anchor component={Link} href="/users">
        Users
      </Anchor>
      <Text>{username}</Text>
    </Breadcrumbs>
  );
  if (error) {
    return (
      <Stack>
        {crumbs}
        {(error as ApiError).statusCode === 404 ? (
          <EmptyState title={`There is no user “${username}”`}>
            They may have been renamed in the directory. Search for them on the Users page.
          </EmptyState>
        ) : (
          <ErrorState error={error} onRetry={() => void refetch()} title="Could not load this user" />
        )}
      </Stack>
    );
  }
  if (isPending) return <LoadingState label="Loading the user" />;
  const live = user.devices.filter((d) => !d.revokedAt).length;
  return (
    <Stack>
      {crumbs}
      <Group gap="sm" align="center">
        <Title order={1} size="h2">
          {displayName(user) || user.username}
        </Title>
        <Badge color={user.status === 'active' ? 'green' : 'orange'} variant="light">
          {user.status}
        </Badge>
      </Group>
      <Card withBorder padding="lg">
        <SimpleGrid cols={{ base: 2, md: 4 }} spacing="lg">
          <Field label="Username">{user.username}</Field>
          <Field label="Email">{user.email ?? '—'}</Field>
          <Field label="Source">{user.source === 'local' ? 'Local' : user.source.toUpperCase()}</Field>
          <Field label="Created">{new Date(user.createdAt).toLocaleDateString('en-GB')}</Field>
          <Field label="Jami ID">
            {user.jamiId ? (
              <Text ff="monospace" size="sm" style={{ wordBreak: 'break-all' }}>
                {user.jamiId}
              </Text>
            ) : (
              <Text c="dimmed" size="sm">
                Not enrolled yet: the account is created at their first device
              </Text>
            )}
          </Field>
        </SimpleGrid>
      </Card>
      <Group justify="space-between" mt="md">
        <Title order={2} size="h3">
          Devices
        </Title>
        <Text size="sm" c="dimmed">
          {live} active, {user.devices.length - live} revoked
        </Text>
      </Group>
      {user.devices.length === 0 ? (
        <EmptyState title="No devices yet">
          {user.username} enrolls a device by connecting Jami (or enclave-agent) to this server with their username and
          password.
        </EmptyState>
      ) : (
        <DeviceTable owner={user.username} devices={user.devices} onRevoke={canRevoke ? onRevoke : undefined} />
      )}
      <RevokeDeviceDialog target={target} onClose={() => setTarget(null)} />
    </Stack>
  );
}
