import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { roomQuery } from '@/components/rooms/query';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { RoomClient } from './client';

export const metadata: Metadata = { title: 'Conference room' };

export default async function RoomPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  const room = decodeURIComponent(name);
  const session = await requireSession(`/rooms/${encodeURIComponent(room)}`);
  const state = await prefetch(session, [{ path: '/api/admin/rooms/{name}', init: roomQuery(room) }]);
  return (
    <HydrationBoundary state={state}>
      <RoomClient name={room} />
    </HydrationBoundary>
  );
}
