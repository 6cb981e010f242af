import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { ACTIVE_DEVICES_QUERY, DashboardClient, USERS_COUNT_QUERY } from './dashboard';

export const metadata: Metadata = { title: 'Dashboard' };

export default async function DashboardPage() {
  const session = await requireSession('/');
  const state = await prefetch(session, [
    { path: '/api/admin/users', init: USERS_COUNT_QUERY },
    { path: '/api/admin/devices', init: ACTIVE_DEVICES_QUERY },
    { path: '/api/admin/groups' },
    { path: '/api/admin/directory' },
    { path: '/api/admin/directory/sync-runs' },
  ]);
  return (
    <HydrationBoundary state={state}>
      <DashboardClient />
    </HydrationBoundary>
  );
}
