import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { PolicyClient } from './client';

export const metadata: Metadata = { title: 'Policy' };

export default async function PolicyPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const policy = decodeURIComponent(id);
  const session = await requireSession(`/policies/${encodeURIComponent(policy)}`);
  const init = { params: { path: { id: policy } } };
  const state = await prefetch(session, [
    { path: '/api/admin/policies/{id}', init },
    { path: '/api/admin/policies/{id}/versions', init },
  ]);
  return (
    <HydrationBoundary state={state}>
      <PolicyClient id={policy} />
    </HydrationBoundary>
  );
}
