'use client';

import { Badge, Button } from '@mantine/core';

/** A timestamp as both device tables show it (UTC, medium date, short time); '—' when there is none. */
export const formatWhen = (iso: string | null) =>
  iso
    ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC'
    : '—';

/** "Revoked <when>" for a revoked device, "Active" otherwise. */
export function DeviceStatusBadge({ revokedAt }: { revokedAt: string | null }) {
  return revokedAt ? (
    <Badge color="red" variant="light" title={`Revoked ${formatWhen(revokedAt)}`}>
      Revoked {formatWhen(revokedAt)}
    </Badge>
  ) : (
    <Badge color="green" variant="light">
      Active
    </Badge>
  );
}

/** The first click of "revoke a lost laptop": names the device and its owner for screen readers. */
export function RevokeDeviceButton({ name, owner, onClick }: { name: string; owner: string; onClick: () => void }) {
  return (
    <Button
      size="xs"
      color="red"
      variant="light"
      onClick={onClick}
      aria-label={`Revoke ${name || 'unnamed device'} of ${owner}`}
    >
      Revoke
    </Button>
  );
}
