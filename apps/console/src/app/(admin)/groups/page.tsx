import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { GroupsClient } from './client';

export const metadata: Metadata = { title: 'Groups' };

export default async function GroupsPage() {
  const session = await requireSession('/groups');
  const state = await prefetch(session, [{ path: '/api/admin/groups' }]);
  return (
    <HydrationBoundary state={state}>
      <GroupsClient />
    </HydrationBoundary>
  );
}
