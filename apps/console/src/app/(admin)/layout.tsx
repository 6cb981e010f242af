import type { ReactNode } from 'react';
import type { AdminRole } from '@/components/shell/me';
import { Shell } from '@/components/shell/shell';
import { currentSession } from '@/lib/auth';
import { consoleRuntime } from '@/lib/runtime';
import { serverApi } from '@/lib/server-api';

export const dynamic = 'force-dynamic';

/**
 * Every signed-in page: navigation for the admin's role, the admin's name, sign-out, and the idle timer.
 * Pages check the session.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await currentSession();
  let role: AdminRole | undefined;
  if (session) {
    const { data } = await (await serverApi(session.token)).GET('/api/admin/me');
    role = data?.role;
  }
  return (
    <Shell username={session?.username ?? ''} role={role} idleTimeoutSeconds={consoleRuntime().idleTimeoutSeconds}>
      {children}
    </Shell>
  );
}
