'use client';

import type { Schemas } from '@enclave/api-client';
import { Badge, Button, Text } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { DataTable } from '@/components/ui/data-table';

type Device = Schemas['DeviceSummaryDto'];
const col = createColumnHelper<Device>();
const when = (iso: string) =>
  new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';

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
        cell: (c) =>
          c.getValue() ? (
            <Badge color="red" variant="light" title={`Revoked ${when(c.getValue() as string)}`}>
              Revoked {when(c.getValue() as string)}
            </Badge>
          ) : (
            <Badge color="green" variant="light">
              Active
            </Badge>
          ),
      }),
      col.display({
        id: 'actions',
        header: () => <span className="visually-hidden">Actions</span>,
        cell: (c) =>
          c.row.original.revokedAt || !onRevoke ? null : (
            <Button
              size="xs"
              color="red"
              variant="light"
              onClick={() => onRevoke(c.row.original)}
              aria-label={`Revoke ${c.row.original.name || 'unnamed device'} of ${owner}`}
            >
              Revoke
            </Button>
          ),
      }),
    ],
    [owner, onRevoke],
  );
  return <DataTable data={devices} columns={columns} caption={`Devices of ${owner}`} rowKey={(d) => d.deviceId} />;
}
