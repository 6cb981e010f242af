'use client';

import type { Schemas } from '@enclave/api-client';
import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Card,
  Group,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useCan } from '@/components/shell/me';
import { PageHeader } from '@/components/ui/page-header';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { $api, type ApiError, errorMessage } from '@/lib/api';

interface Row {
  key: string;
  value: string;
}

const toRows = (settings: Record<string, unknown>): Row[] =>
  Object.entries(settings).map(([key, value]) => ({ key, value: JSON.stringify(value) }));

/**
 * The settings as one row per daemon key, each value as JSON. The server checks every key by its meaning;
 * its problems (`details.problems`, each starting with the key) are shown on the row they name.
 */
function SettingsEditor({ policy }: { policy: Schemas['PolicyResponseDto'] }) {
  const canManage = useCan('manage');
  const queryClient = useQueryClient();
  const [rows, setRows] = useState<Row[]>(() => toRows(policy.settings));
  const [rowErrors, setRowErrors] = useState<Record<number, string>>({});
  const [formError, setFormError] = useState('');
  const [saved, setSaved] = useState(false);
  const save = $api.useMutation('put', '/api/admin/policies/{id}');
  const update = (i: number, patch: Partial<Row>) => {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
    setSaved(false);
  };

  const submit = async () => {
    setSaved(false);
    setFormError('');
    const errors: Record<number, string> = {};
    const settings: Record<string, unknown> = {};
    rows.forEach((r, i) => {
      const key = r.key.trim();
      if (!key) {
        errors[i] = 'Enter the setting’s key';
        return;
      }
      try {
        settings[key] = JSON.parse(r.value);
      } catch {
        errors[i] = 'The value must be JSON: true, 42, "text", {"users": []}';
      }
    });
    setRowErrors(errors);
    if (Object.keys(errors).length) return;
    try {
      await save.mutateAsync({ params: { path: { id: policy.id } }, body: { settings } });
      await queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/policies/{id}'] });
      await queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/policies/{id}/versions'] });
      await queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/policies'] });
      setSaved(true);
    } catch (err) {
      const e = err as ApiError;
      const problems = Array.isArray(e.details?.problems) ? e.details.problems.map(String) : [];
      const mapped: Record<number, string> = {};
      const rest: string[] = [];
      for (const p of problems) {
        const i = rows.findIndex((r) => r.key.trim() && p.startsWith(r.key.trim()));
        if (i >= 0) mapped[i] = mapped[i] ? `${mapped[i]}; ${p}` : p;
        else rest.push(p);
      }
      setRowErrors(mapped);
      if (rest.length || !problems.length) setFormError(rest.join('; ') || errorMessage(e));
    }
  };

  return (
    <Card withBorder padding="lg" component="section" aria-label="Settings">
      <Title order={2} size="h4" mb="sm">
        Settings
      </Title>
      <Stack gap="xs">
        {rows.length === 0 && <Text c="dimmed">No setting: this policy delivers nothing yet.</Text>}
        {rows.map((r, i) => (
          <Group key={i} align="flex-start" wrap="nowrap">
            <TextInput
              label={`Key ${i + 1}`}
              value={r.key}
              readOnly={!canManage}
              onChange={(e) => update(i, { key: e.currentTarget.value })}
              w={280}
              styles={{ input: { fontFamily: 'monospace' } }}
            />
            <Textarea
              label={`Value of ${r.key || `key ${i + 1}`}`}
              value={r.value}
              readOnly={!canManage}
              autosize
              minRows={1}
              onChange={(e) => update(i, { value: e.currentTarget.value })}
              error={rowErrors[i]}
              style={{ flex: 1 }}
              styles={{ input: { fontFamily: 'monospace' } }}
            />
            {canManage && (
              <ActionIcon
                mt={28}
                variant="subtle"
                color="red"
                aria-label={`Remove ${r.key || `key ${i + 1}`}`}
                onClick={() => {
                  setRows(rows.filter((_, j) => j !== i));
                  setRowErrors({});
                }}
              >
                ×
              </ActionIcon>
            )}
          </Group>
        ))}
        {formError && (
          <Alert color="red" role="alert" title="Not saved">
            {formError}
          </Alert>
        )}
        {saved && (
          <Alert color="green" role="status" title="Saved">
            A new version was recorded.
          </Alert>
        )}
        {canManage && (
          <Group>
            <Button variant="default" onClick={() => setRows([...rows, { key: '', value: '' }])}>
              Add setting
            </Button>
            <Button loading={save.isPending} onClick={() => void submit()}>
              Save settings
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function Versions({ id }: { id: string }) {
  const versions = $api.useQuery('get', '/api/admin/policies/{id}/versions', { params: { path: { id } } });
  if (versions.error) return <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />;
  if (versions.isPending) return <LoadingState label="Loading versions" />;
  const list = [...versions.data].sort((a, b) => b.version - a.version);
  return (
    <Card withBorder padding="lg" component="section" aria-label="Versions">
      <Title order={2} size="h4" mb="sm">
        Versions
      </Title>
      <Stack gap="sm">
        {list.map((v) => (
          <Stack key={v.version} gap={4} aria-label={`Version ${v.version}`} component="article">
            <Text size="sm">
              <b>Version {v.version}</b> by {v.actor},{' '}
              {new Date(v.createdAt).toLocaleString('en-GB', { timeZone: 'UTC' })} UTC
              {v.diff.renamedFrom ? ` (renamed from ${v.diff.renamedFrom})` : ''}
            </Text>
            <Group gap={4}>
              {v.diff.added.map((k) => (
                <Badge key={`a${k}`} color="green" variant="light" tt="none">
                  + {k}
                </Badge>
              ))}
              {v.diff.changed.map((k) => (
                <Badge key={`c${k}`} color="blue" variant="light" tt="none">
                  ~ {k}
                </Badge>
              ))}
              {v.diff.removed.map((k) => (
                <Badge key={`r${k}`} color="red" variant="light" tt="none">
                  − {k}
                </Badge>
              ))}
              {!v.diff.added.length && !v.diff.changed.length && !v.diff.removed.length && (
                <Text size="xs" c="dimmed">
                  no setting changed
                </Text>
              )}
            </Group>
          </Stack>
        ))}
      </Stack>
    </Card>
  );
}

export function PolicyClient({ id }: { id: string }) {
  const { data, error, isPending, refetch } = $api.useQuery('get', '/api/admin/policies/{id}', {
    params: { path: { id } },
  });
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} title="Could not load the policy" />;
  if (isPending) return <LoadingState label="Loading the policy" />;
  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} href="/policies">
          Policies
        </Anchor>
        <Text>{data.name}</Text>
      </Breadcrumbs>
      <PageHeader
        title={data.name}
        description={`Version ${data.version}${data.isDefault ? ' · the organization default' : ''}${
          data.groups.length ? ` · groups: ${data.groups.map((g) => g.name).join(', ')}` : ''
        }`}
      />
      <SettingsEditor policy={data} />
      <Versions id={id} />
    </Stack>
  );
}
