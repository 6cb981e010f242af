'use client';

import type { Schemas } from '@enclave/api-client';
import { Text } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { DataTable } from '@/components/ui/data-table';
import { DeviceStatusBadge, formatWhen as when, RevokeDeviceButton } from './device-cells';

type Device = Schemas['DeviceSummaryDto'];
const col = createColumnHelper<Device>();

/** A person's devices with their state and, for live ones, the revoke action (first click). */
export function DeviceTable({
  owner,
  devices,
  onRevoke,
}: {
  owner: string;
  devices: Device[];
  /** Absent when the admin's role may not revoke. */
  onRevoke?: (device: Device) => void;
}) {
  const columns = useMemo(
    () => [
      col.accessor('name', { header: 'Device', cell: (c) => <Text fw={600}>{c.getValue() || 'unnamed device'}</Text> }),
      col.accessor('deviceId', {
        header: 'Device ID',
        cell: (c) => (
          <Text size="xs" ff="monospace" title={c.getValue()}>
            {c.getValue().slice(0, 16)}…
          </Text>
        ),
      }),
      col.accessor('createdAt', { header: 'Enrolled', cell: (c) => when(c.getValue()) }),
      col.accessor('revokedAt', {
        header: 'Status',
        cell: (c) => <DeviceStatusBadge revokedAt={c.getValue()} />,
      }),
      col.display({
        id: 'actions',
        header: () => <span className="visually-hidden">Actions</span>,
        cell: (c) =>
          c.row.original.revokedAt || !onRevoke ? null : (
            <RevokeDeviceButton name={c.row.original.name} owner={owner} onClick={() => onRevoke(c.row.original)} />
          ),
      }),
    ],
    [owner, onRevoke],
  );
  return <DataTable data={devices} columns={columns} caption={`Devices of ${owner}`} rowKey={(d) => d.deviceId} />;
}
