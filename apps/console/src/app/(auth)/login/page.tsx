import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { currentSession, safeNext, setupRequired } from '@/lib/auth';
import { AuthFrame } from '@/components/auth-frame';
import { LoginForm } from './login-form';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  if (await setupRequired()) redirect('/setup');
  const next = safeNext(params.next);
  if (await currentSession()) redirect(next);
  return (
    <AuthFrame title="Sign in to Enclave" subtitle="Administration console">
      <LoginForm next={next} expired={params.expired === '1'} />
    </AuthFrame>
  );
}
