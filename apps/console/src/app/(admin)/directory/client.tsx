'use client';

import type { Schemas } from '@enclave/api-client';
import { Alert, Badge, Button, Card, Group, List, Modal, Stack, Text, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { DirectorySettingsForm } from '@/components/directory/settings-form';
import { useCan } from '@/components/shell/me';
import { DataTable } from '@/components/ui/data-table';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { $api, errorMessage } from '@/lib/api';

type Run = Schemas['SyncRunDto'];
const STATUS_COLOR: Record<Run['status'], string> = {
  queued: 'gray',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  awaiting_confirmation: 'orange',
  confirmed: 'teal',
};
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString('en-GB', { timeZone: 'UTC' }) + ' UTC' : '—');
const col = createColumnHelper<Run>();

function ConnectionTest() {
  const test = $api.useMutation('post', '/api/admin/directory/test');
  return (
    <Stack gap="xs">
      <Group>
        <Button variant="light" loading={test.isPending} onClick={() => test.mutate({})}>
          Test connection
        </Button>
        <Text size="sm" c="dimmed">
          Tests the saved settings: DNS, TCP, TLS, bind and the user search.
        </Text>
      </Group>
      {test.error && (
        <Alert color="red" role="alert" title="The test could not run">
          {errorMessage(test.error)}
        </Alert>
      )}
      {test.data && (
        <Alert
          color={test.data.ok ? 'green' : 'red'}
          title={test.data.ok ? 'Connection works' : 'Connection failed'}
          role="status"
        >
          <List size="sm" spacing={2}>
            {test.data.stages.map((s) => (
              <List.Item key={s.stage}>
                {s.ok ? '✓' : '✗'} {s.stage.toUpperCase()}
                {s.message ? `: ${s.message}` : ''}
              </List.Item>
            ))}
          </List>
          {test.data.matchedUsers !== null && (
            <Text size="sm">The user filter matches {test.data.matchedUsers} users.</Text>
          )}
        </Alert>
      )}
    </Stack>
  );
}

export function DirectoryClient() {
  const canManage = useCan('manage');
  const queryClient = useQueryClient();
  const settings = $api.useQuery('get', '/api/admin/directory');
  const runs = $api.useQuery('get', '/api/admin/directory/sync-runs', undefined, {
    // Live progress while a run is queued or running.
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === 'queued' || r.status === 'running') ? 2000 : false),
  });
  const [confirming, setConfirming] = useState<Run | null>(null);
  const refreshRuns = () => queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/directory/sync-runs'] });
  const sync = $api.useMutation('post', '/api/admin/directory/sync', { onSuccess: refreshRuns });
  const confirm = $api.useMutation('post', '/api/admin/directory/sync-runs/{id}/confirm', {
    onSuccess: async () => {
      await refreshRuns();
      setConfirming(null);
    },
  });

  const columns = useMemo(
    () => [
      col.accessor('status', {
        header: 'Status',
        cell: (c) => (
          <Badge color={STATUS_COLOR[c.getValue()]} variant="light">
            {c.getValue().replace('_', ' ')}
          </Badge>
        ),
      }),
      col.accessor('mode', { header: 'Mode' }),
      col.accessor('trigger', { header: 'Trigger' }),
      col.accessor('startedAt', { header: 'Started', cell: (c) => when(c.getValue()) }),
      col.accessor('finishedAt', { header: 'Finished', cell: (c) => when(c.getValue()) }),
      col.display({
        id: 'counts',
        header: 'Seen / added / updated / suspended',
        cell: (c) => {
          const r = c.row.original;
          return `${r.seen} / ${r.added} / ${r.updated} / ${r.suspended}`;
        },
      }),
      col.display({
        id: 'actions',
        header: () => <span className="visually-hidden">Actions</span>,
        cell: (c) => {
          const r = c.row.original;
          if (r.status === 'awaiting_confirmation' && canManage) {
            return (
              <Button size="xs" color="orange" onClick={() => setConfirming(r)}>
                Review {r.pendingSuspensions} suspensions
              </Button>
            );
          }
          return r.errors.length ? (
            <Text size="xs" c="red.8" title={r.errors.join('\n')}>
              {r.errors.length} error{r.errors.length > 1 ? 's' : ''}: {r.errors[0]}
            </Text>
          ) : null;
        },
      }),
    ],
    [canManage],
  );

  if (settings.error) return <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />;
  if (settings.isPending) return <LoadingState label="Loading directory settings" />;
  const isLocal = settings.data.type === 'local';
  return (
    <Stack>
      <PageHeader
        title="Directory"
        description="Sync users and groups from LDAP or Active Directory; people who leave are suspended and revoked."
      />
      <Card withBorder padding="lg">
        <Title order={2} size="h4" mb="md">
          Settings
        </Title>
        <DirectorySettingsForm settings={settings.data} />
      </Card>
      {!isLocal && canManage && (
        <Card withBorder padding="lg">
          <Stack>
            <Title order={2} size="h4">
              Connection and sync
            </Title>
            <ConnectionTest />
            <Group>
              <Button loading={sync.isPending} onClick={() => sync.mutate({ body: { mode: 'full' } })}>
                Sync now (full)
              </Button>
              <Button
                variant="default"
                loading={sync.isPending}
                onClick={() => sync.mutate({ body: { mode: 'incremental' } })}
              >
                Incremental sync
              </Button>
            </Group>
            {sync.error && (
              <Alert color="red" role="alert" title="The sync did not start">
                {errorMessage(sync.error)}
              </Alert>
            )}
          </Stack>
        </Card>
      )}
      <Title order={2} size="h4">
        Sync history
      </Title>
      {runs.error ? (
        <ErrorState error={runs.error} onRetry={() => void runs.refetch()} />
      ) : runs.isPending ? (
        <LoadingState label="Loading sync runs" />
      ) : runs.data.length === 0 ? (
        <EmptyState title="No sync has run yet">
          {isLocal
            ? 'Users are managed here in the console. Choose LDAP or Active Directory above to sync them instead.'
            : 'Save the settings, test the connection, then run a first sync.'}
        </EmptyState>
      ) : (
        <DataTable data={runs.data} columns={columns} caption="Directory sync runs" rowKey={(r) => r.id} />
      )}
      <Modal
        closeButtonProps={{ 'aria-label': 'Close' }}
        opened={confirming !== null}
        onClose={() => setConfirming(null)}
        title="Confirm the suspensions?"
        centered
      >
        {confirming && (
          <Stack>
            <Text>
              This {confirming.mode} sync would suspend <b>{confirming.pendingSuspensions}</b> users, more than the
              mass-deletion brake allows. Their accounts and devices would be revoked.
            </Text>
            <Text size="sm" c="dimmed">
              If the directory answered wrongly (a changed filter, a moved OU), cancel and fix the settings instead.
            </Text>
            {confirm.error && (
              <Alert color="red" role="alert" title="Not confirmed">
                {errorMessage(confirm.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirming(null)} data-autofocus>
                Cancel
              </Button>
              <Button
                color="red"
                loading={confirm.isPending}
                onClick={() => confirm.mutate({ params: { path: { id: confirming.id } } })}
              >
                Suspend {confirming.pendingSuspensions} users
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
