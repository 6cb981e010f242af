import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { PoliciesClient } from './client';

export const metadata: Metadata = { title: 'Policies' };

export default async function PoliciesPage() {
  const session = await requireSession('/policies');
  const state = await prefetch(session, [{ path: '/api/admin/policies' }]);
  return (
    <HydrationBoundary state={state}>
      <PoliciesClient />
    </HydrationBoundary>
  );
}
