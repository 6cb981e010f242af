'use client';

import type { Schemas } from '@enclave/api-client';
import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { $api, errorMessage } from '@/lib/api';
import { displayName, userQuery } from '@/components/users/query';

export interface RevokeTarget {
  owner: string;
  /** The owner's full name when the caller has it; otherwise the dialog looks it up. */
  ownerName?: string;
  device: Pick<Schemas['DeviceSummaryDto'], 'deviceId' | 'name'>;
}

/**
 * The confirmation before a device is revoked: it names the device and its owner, and says what follows.
 * Confirming is the second click; the owner's page then shows the device as revoked.
 */
export function RevokeDeviceDialog({ target, onClose }: { target: RevokeTarget | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const revoke = $api.useMutation('delete', '/api/admin/users/{username}/devices/{deviceId}', {
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/users/{username}'] }),
        queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/devices'] }),
      ]);
      onClose();
    },
  });
  const close = () => {
    revoke.reset();
    onClose();
  };
  const owner = $api.useQuery('get', '/api/admin/users/{username}', userQuery(target?.owner ?? ''), {
    enabled: !!target && target.ownerName === undefined,
  });
  const ownerName = target?.ownerName ?? (owner.data ? displayName(owner.data) : '');
  const who = target ? (ownerName ? `${ownerName} (${target.owner})` : target.owner) : '';
  return (
    <Modal
      closeButtonProps={{ 'aria-label': 'Close' }}
      opened={target !== null}
      onClose={close}
      title="Revoke this device?"
      centered
    >
      {target && (
        <Stack>
          <Text>
            Revoke <b>{target.device.name || 'unnamed device'}</b> of <b>{who}</b>?
          </Text>
          <Text size="sm" c="dimmed">
            Its certificate goes on the revocation list (CRL and OCSP) at once; the device can no longer sign in or
            reach colleagues, and the same key can never be certified again. {target.owner}’s other devices keep
            working.
          </Text>
          <Text size="xs" ff="monospace" c="dimmed" style={{ wordBreak: 'break-all' }}>
            Device ID {target.device.deviceId}
          </Text>
          {revoke.error && (
            <Alert color="red" role="alert" title="Not revoked">
              {errorMessage(revoke.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} data-autofocus>
              Cancel
            </Button>
            <Button
              color="red"
              loading={revoke.isPending}
              onClick={() =>
                revoke.mutate({
                  params: { path: { ...userQuery(target.owner).params.path, deviceId: target.device.deviceId } },
                })
              }
            >
              Revoke device
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
