'use client';

import type { Schemas } from '@enclave/api-client';
import {
  Alert,
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Card,
  Code,
  Group,
  List,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { roomQuery } from '@/components/rooms/query';
import { useCan } from '@/components/shell/me';
import { PageHeader } from '@/components/ui/page-header';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { $api, errorMessage } from '@/lib/api';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString('en-GB', { timeZone: 'UTC' }) + ' UTC' : '—');

function People({ title, people }: { title: string; people: Schemas['ResolvedPeopleDto'] | null }) {
  return (
    <Card withBorder padding="lg" component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {people === null ? (
        <Text c="dimmed">Everyone in the organization may call.</Text>
      ) : (
        <Stack gap="xs">
          <Text size="sm">
            <b>Users:</b> {people.users.join(', ') || '—'}
          </Text>
          <Text size="sm">
            <b>Groups:</b> {people.groups.map((g) => g.name).join(', ') || '—'}
          </Text>
          <Text size="sm">
            <b>Resolved:</b> {people.jamiIds.length} Jami {people.jamiIds.length === 1 ? 'ID' : 'IDs'}
          </Text>
          {people.pending.length > 0 && (
            <Text size="sm">
              <b>Pending</b> (no device yet, added when they enroll): {people.pending.join(', ')}
            </Text>
          )}
        </Stack>
      )}
    </Card>
  );
}

/** The one-time host secret, as text and as a QR code rendered here (SVG, nothing leaves the browser). */
function HostSecret({ secret }: { secret: Schemas['HostEnrollmentDto'] }) {
  const [svg, setSvg] = useState('');
  useEffect(() => {
    let live = true;
    void QRCode.toString(secret.password, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }).then((s) => {
      if (live) setSvg(s);
    });
    return () => {
      live = false;
    };
  }, [secret.password]);
  return (
    <Alert color="indigo" title="Host secret (shown once)" role="status">
      <Group align="flex-start" wrap="nowrap">
        <Stack gap={4} style={{ flex: 1 }}>
          <Text size="sm">
            In the Jami client on the room’s machine choose “Connect to a management server”, give this server’s URL,
            the username <Code>{secret.username}</Code> and the secret below. It enrolls one device and expires{' '}
            {when(secret.expiresAt)}.
          </Text>
          <TextInput
            label="Host secret"
            readOnly
            value={secret.password}
            styles={{ input: { fontFamily: 'monospace' } }}
            onFocus={(e) => e.currentTarget.select()}
          />
        </Stack>
        {svg && (
          <img
            src={`data:image/svg+xml;utf8,${encodeURIComponent(svg)}`}
            alt="QR code of the host secret"
            width={160}
            height={160}
          />
        )}
      </Group>
    </Alert>
  );
}

export function RoomClient({ name }: { name: string }) {
  const canManage = useCan('manage');
  const queryClient = useQueryClient();
  const { data: room, error, isPending, refetch } = $api.useQuery('get', '/api/admin/rooms/{name}', roomQuery(name));
  const [secret, setSecret] = useState<Schemas['HostEnrollmentDto'] | null>(null);
  const enroll = $api.useMutation('post', '/api/admin/rooms/{name}/host-enrollment', {
    onSuccess: async (data) => {
      setSecret(data);
      await queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/rooms/{name}'] });
    },
  });
  const crumbs = (
    <Breadcrumbs mb="sm">
      <Anchor component={Link} href="/rooms">
        Conference rooms
      </Anchor>
      <Text>{name}</Text>
    </Breadcrumbs>
  );
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} title="Could not load the room" />;
  if (isPending) return <LoadingState label="Loading the room" />;
  const host = room.host;
  return (
    <Stack>
      {crumbs}
      <PageHeader
        title={room.displayName}
        description={`Room ${room.name}${room.jamiId ? ` · Jami ID ${room.jamiId}` : ''}`}
        actions={
          canManage && (
            <Button
              loading={enroll.isPending}
              onClick={() => enroll.mutate({ params: roomQuery(name).params, body: { ttlHours: 24 } })}
            >
              Host enrollment
            </Button>
          )
        }
      />
      {enroll.error && (
        <Alert color="red" role="alert" title="No secret was issued">
          {errorMessage(enroll.error)}
        </Alert>
      )}
      {secret && <HostSecret secret={secret} />}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <People title="Default moderators" people={room.moderators} />
        <People title="Members" people={room.members} />
      </SimpleGrid>
      <Card withBorder padding="lg" component="section" aria-label="Host">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Host
          </Title>
          <Badge color={host.online ? 'green' : host.deviceId ? 'gray' : 'orange'} variant="light">
            {host.online ? 'online' : host.deviceId ? 'offline' : 'not enrolled'}
          </Badge>
        </Group>
        <List size="sm" spacing={4}>
          <List.Item>Device: {host.deviceName ?? host.deviceId ?? 'none yet'}</List.Item>
          <List.Item>Daemon: {host.daemonVersion ?? '—'}</List.Item>
          <List.Item>Last report: {when(host.lastReportAt)}</List.Item>
          <List.Item>
            Outstanding secret:{' '}
            {host.secretExpiresAt
              ? `${host.secretUsed ? 'used' : 'unused'}, expires ${when(host.secretExpiresAt)}`
              : 'none'}
          </List.Item>
          <List.Item>
            {room.allParticipantsModerators
              ? 'Every participant is a moderator'
              : 'Only the default moderators moderate'}
          </List.Item>
          {host.conference && (
            <List.Item>
              In a call with {host.conference.participants.length}{' '}
              {host.conference.participants.length === 1 ? 'participant' : 'participants'}:{' '}
              {host.conference.participants.map((p) => p.name ?? p.jamiId.slice(0, 8)).join(', ')}
            </List.Item>
          )}
        </List>
      </Card>
    </Stack>
  );
}
