import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { userQuery } from '@/components/users/query';
import { requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { UserClient } from './client';

type Props = { params: Promise<{ username: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).username) };
}

export default async function UserPage({ params }: Props) {
  const username = decodeURIComponent((await params).username);
  const session = await requireSession(`/users/${encodeURIComponent(username)}`);
  const state = await prefetch(session, [{ path: '/api/admin/users/{username}', init: userQuery(username) }]);
  return (
    <HydrationBoundary state={state}>
      <UserClient username={username} />
    </HydrationBoundary>
  );
}
