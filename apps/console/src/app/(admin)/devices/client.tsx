'use client';

import type { Schemas } from '@enclave/api-client';
import { Anchor, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { createColumnHelper } from '@tanstack/react-table';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { DeviceStatusBadge, formatWhen as when, RevokeDeviceButton } from '@/components/devices/device-cells';
import { deviceSearchQuery } from '@/components/devices/query';
import { RevokeDeviceDialog, type RevokeTarget } from '@/components/devices/revoke-device-dialog';
import { useCan } from '@/components/shell/me';
import { DataTable } from '@/components/ui/data-table';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { $api } from '@/lib/api';

type Device = Schemas['AdminDeviceDto'];
const col = createColumnHelper<Device>();

/** Devices organisation-wide with their owner, last sign-in and certificate expiry; live ones can be revoked. */
function OrgDeviceTable({ devices, onRevoke }: { devices: Device[]; onRevoke?: (device: Device) => void }) {
  const columns = useMemo(
    () => [
      col.accessor('name', { header: 'Device', cell: (c) => <Text fw={600}>{c.getValue() || 'unnamed device'}</Text> }),
      col.accessor('owner', {
        header: 'Owner',
        cell: (c) => (
          <Anchor component={Link} href={`/users/${encodeURIComponent(c.getValue())}`}>
            {c.getValue()}
          </Anchor>
        ),
      }),
      col.accessor('deviceId', {
        header: 'Device ID',
        cell: (c) => (
          <Text size="xs" ff="monospace" title={c.getValue()}>
            {c.getValue().slice(0, 12)}…
          </Text>
        ),
      }),
      col.accessor('lastLoginAt', { header: 'Last sign-in', cell: (c) => when(c.getValue()) }),
      col.accessor('certificateExpiresAt', { header: 'Certificate expires', cell: (c) => when(c.getValue()) }),
      col.accessor('revokedAt', {
        header: 'Status',
        cell: (c) => <DeviceStatusBadge revokedAt={c.getValue()} />,
      }),
      col.display({
        id: 'actions',
        header: () => <span className="visually-hidden">Actions</span>,
        cell: (c) =>
          c.row.original.revokedAt || !onRevoke ? null : (
            <RevokeDeviceButton
              name={c.row.original.name}
              owner={c.row.original.owner}
              onClick={() => onRevoke(c.row.original)}
            />
          ),
      }),
    ],
    [onRevoke],
  );
  return <DataTable data={devices} columns={columns} caption="Matching devices" rowKey={(d) => d.deviceId} />;
}

export function DevicesClient() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const q = searchParams.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  const [target, setTarget] = useState<RevokeTarget | null>(null);
  const canRevoke = useCan('helpdesk');
  const init = deviceSearchQuery(q);
  const devices = $api.useQuery('get', '/api/admin/devices', init ?? {}, { enabled: !!init });
  const setQuery = useDebouncedCallback((value: string) => {
    const v = value.trim();
    router.replace(v ? `${pathname}?q=${encodeURIComponent(v)}` : pathname, { scroll: false });
  }, 300);

  let body: React.ReactNode;
  if (!init) {
    body = (
      <EmptyState title="Find a device">
        Type the owner’s username, part of the device name or the start of its device ID. Revoke the lost one and
        confirm.
      </EmptyState>
    );
  } else if (devices.error) {
    body = <ErrorState error={devices.error} onRetry={() => void devices.refetch()} title="The search failed" />;
  } else if (devices.isPending) {
    body = <LoadingState label="Searching" />;
  } else if (devices.data.items.length === 0) {
    body = (
      <EmptyState title={`No device matches “${q}”`}>
        Search looks at owners’ usernames, device names and device IDs. Check the spelling or type less.
      </EmptyState>
    );
  } else {
    const n = devices.data.items.length;
    body = (
      <Stack>
        <Text size="sm" c="dimmed" aria-live="polite">
          {n} {n === 1 ? 'device' : 'devices'} matching “{q}”{devices.data.nextCursor ? ' (first ones shown)' : ''}
        </Text>
        <OrgDeviceTable
          devices={devices.data.items}
          onRevoke={
            canRevoke ? (d) => setTarget({ owner: d.owner, device: { deviceId: d.deviceId, name: d.name } }) : undefined
          }
        />
      </Stack>
    );
  }

  return (
    <Stack>
      <PageHeader title="Devices" description="A laptop or phone was lost or stolen? Find it and revoke it." />
      <TextInput
        label="Find a person or their device"
        placeholder="Username, device name or device ID"
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
