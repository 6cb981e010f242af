import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { auditQuery } from '@/components/audit/query';
import { pageUrl, requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { AuditClient } from './client';

export const metadata: Metadata = { title: 'Audit log' };

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const session = await requireSession(pageUrl('/audit', params));
  const get = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
  const state = await prefetch(session, [{ path: '/api/admin/audit', init: auditQuery(get) }]);
  return (
    <HydrationBoundary state={state}>
      <AuditClient />
    </HydrationBoundary>
  );
}
