'use client';

import type { Schemas } from '@enclave/api-client';
import { Alert, Anchor, Button, Code, Group, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useState } from 'react';
import { AUDIT_FILTERS, type AuditFilter, auditExportUrl, auditFilters, auditQuery } from '@/components/audit/query';
import { DataTable } from '@/components/ui/data-table';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { $api, errorMessage } from '@/lib/api';

type Event = Schemas['AuditEventResponseDto'];
const col = createColumnHelper<Event>();
const summary = (v: Record<string, unknown> | null) => (v ? JSON.stringify(v).slice(0, 160) : '');
const columns = [
  col.accessor('id', { header: '#' }),
  col.accessor('at', {
    header: 'When (UTC)',
    cell: (c) => new Date(c.getValue()).toLocaleString('en-GB', { timeZone: 'UTC' }),
  }),
  col.accessor('actor', { header: 'Actor' }),
  col.accessor('action', { header: 'Action', cell: (c) => <Code>{c.getValue()}</Code> }),
  col.accessor('target', { header: 'Target', cell: (c) => c.getValue() ?? '—' }),
  col.display({
    id: 'change',
    header: 'Details',
    cell: (c) => {
      const e = c.row.original;
      const text = [summary(e.details), e.after ? `after ${summary(e.after)}` : ''].filter(Boolean).join(' · ');
      return (
        <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>
          {text || '—'}
        </Text>
      );
    },
  }),
];

const LABELS: Record<AuditFilter, { label: string; placeholder: string }> = {
  actor: { label: 'Actor', placeholder: 'admin:alice' },
  action: { label: 'Action', placeholder: 'user.created' },
  target: { label: 'Target', placeholder: 'jdoe' },
  from: { label: 'From', placeholder: '2026-01-01T00:00:00Z' },
  to: { label: 'To', placeholder: '2026-02-01T00:00:00Z' },
};

export function AuditClient() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const get = (name: string) => searchParams.get(name);
  const filters = auditFilters(get);
  const [draft, setDraft] = useState<Partial<Record<AuditFilter, string>>>(filters);
  const cursor = searchParams.get('cursor') ?? '';
  const events = $api.useQuery('get', '/api/admin/audit', auditQuery(get), { placeholderData: (p) => p });
  const verify = $api.useQuery('get', '/api/admin/audit/verify');
  const go = (next: Partial<Record<AuditFilter, string>>, nextCursor?: string) => {
    const q = new URLSearchParams();
    for (const f of AUDIT_FILTERS) if (next[f]?.trim()) q.set(f, next[f]!.trim());
    if (nextCursor) q.set('cursor', nextCursor);
    const s = q.toString();
    router.replace(s ? `${pathname}?${s}` : pathname, { scroll: false });
  };

  return (
    <Stack>
      <PageHeader
        title="Audit log"
        description="Every change, who made it and from where, in a hash chain the server verifies. Exports carry the filters."
        actions={
          <Group gap="xs">
            <Button component="a" variant="default" href={auditExportUrl(filters, 'csv')} download>
              Export CSV
            </Button>
            <Button component="a" variant="default" href={auditExportUrl(filters, 'json')} download>
              Export JSON
            </Button>
          </Group>
        }
      />
      {verify.error ? (
        <Alert color="red" role="alert" title="The chain could not be checked">
          {errorMessage(verify.error)}
        </Alert>
      ) : verify.data ? (
        <Alert
          color={verify.data.ok ? 'green' : 'red'}
          title={verify.data.ok ? 'The hash chain verifies' : 'The hash chain is broken'}
          role="status"
        >
          {verify.data.ok
            ? `${verify.data.checked} entries checked; last entry ${verify.data.lastId ?? '—'}, hash ${verify.data.lastHash?.slice(0, 16) ?? '—'}…`
            : `Entry ${verify.data.firstBrokenId} does not verify (after ${verify.data.checked} checked).`}
        </Alert>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          go(draft);
        }}
      >
        <SimpleGrid cols={{ base: 2, lg: 5 }}>
          {AUDIT_FILTERS.map((f) => (
            <TextInput
              key={f}
              label={LABELS[f].label}
              placeholder={LABELS[f].placeholder}
              value={draft[f] ?? ''}
              onChange={(e) => setDraft({ ...draft, [f]: e.currentTarget.value })}
            />
          ))}
        </SimpleGrid>
        <Group mt="sm">
          <Button type="submit">Filter</Button>
          <Button
            variant="subtle"
            onClick={() => {
              setDraft({});
              go({});
            }}
          >
            Clear
          </Button>
        </Group>
      </form>
      {events.error ? (
        <ErrorState error={events.error} onRetry={() => void events.refetch()} title="Could not load the log" />
      ) : events.isPending ? (
        <LoadingState label="Loading the audit log" />
      ) : events.data.items.length === 0 ? (
        <EmptyState title="No entry matches">Change or clear the filters.</EmptyState>
      ) : (
        <>
          <DataTable data={events.data.items} columns={columns} caption="Audit log" rowKey={(e) => e.id} />
          <Group justify="flex-end">
            {cursor && (
              <Anchor component="button" type="button" onClick={() => go(filters)}>
                Newest entries
              </Anchor>
            )}
            {events.data.nextCursor && (
              <Button variant="default" onClick={() => go(filters, events.data.nextCursor ?? undefined)}>
                Older entries
              </Button>
            )}
          </Group>
        </>
      )}
    </Stack>
  );
}
