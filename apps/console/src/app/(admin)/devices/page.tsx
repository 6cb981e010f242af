import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { deviceSearchQuery } from '@/components/devices/query';
import { pageUrl, requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { DevicesClient } from './client';

export const metadata: Metadata = { title: 'Devices' };

export default async function DevicesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const session = await requireSession(pageUrl('/devices', params));
  const init = deviceSearchQuery(typeof params.q === 'string' ? params.q : undefined);
  const state = await prefetch(session, init ? [{ path: '/api/admin/devices', init }] : []);
  return (
    <HydrationBoundary state={state}>
      <DevicesClient />
    </HydrationBoundary>
  );
}
