import { HydrationBoundary } from '@tanstack/react-query';
import type { Metadata } from 'next';
import { usersQuery } from '@/components/users/query';
import { pageUrl, requireSession } from '@/lib/auth';
import { prefetch } from '@/lib/prefetch';
import { UsersClient } from './client';

export const metadata: Metadata = { title: 'Users' };

type Params = Promise<Record<string, string | string[] | undefined>>;

export default async function UsersPage({ searchParams }: { searchParams: Params }) {
  const params = await searchParams;
  const session = await requireSession(pageUrl('/users', params));
  const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);
  const state = await prefetch(session, [
    { path: '/api/admin/users', init: usersQuery({ search: one(params.search), cursor: one(params.cursor) }) },
  ]);
  return (
    <HydrationBoundary state={state}>
      <UsersClient />
    </HydrationBoundary>
  );
}
