import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { RoomsClient } from './client';

export const metadata: Metadata = { title: 'Conference rooms' };

export default async function RoomsPage() {
  const session = await requireSession('/rooms');
  const state = await prefetch(session, [{ path: '/api/admin/rooms' }]);
  return (
    <HydrationBoundary state={state}>
      <RoomsClient />
    </HydrationBoundary>
  );
}
