import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { DashboardClient, TOTALS_QUERY } from './dashboard';

export const metadata: Metadata = { title: 'Dashboard' };

export default async function DashboardPage() {
  const session = await requireSession('/');
  const state = await prefetch(session, [
    { path: '/api/admin/users', init: TOTALS_QUERY },
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
