import type { ReactNode } from 'react';
import { Shell } from '@/components/shell/shell';
import { currentSession } from '@/lib/auth';
import { consoleRuntime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

/** Every signed-in page: navigation, the admin's name, sign-out, and the idle timer. Pages check the session. */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await currentSession();
  return (
    <Shell username={session?.username ?? ''} idleTimeoutSeconds={consoleRuntime().idleTimeoutSeconds}>
      {children}
    </Shell>
  );
}
