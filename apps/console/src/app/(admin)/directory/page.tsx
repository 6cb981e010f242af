import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { DirectoryClient } from './client';

export const metadata: Metadata = { title: 'Directory' };

export default async function DirectoryPage() {
  const session = await requireSession('/directory');
  const state = await prefetch(session, [{ path: '/api/admin/directory' }, { path: '/api/admin/directory/sync-runs' }]);
  return (
    <HydrationBoundary state={state}>
      <DirectoryClient />
    </HydrationBoundary>
  );
}
