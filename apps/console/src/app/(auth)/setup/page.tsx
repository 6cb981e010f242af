import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { setupRequired } from '@/lib/auth';
import { AuthFrame } from '@/components/auth-frame';
import { SetupWizard } from './setup-wizard';

export const metadata: Metadata = { title: 'Set up' };
export const dynamic = 'force-dynamic';

export default async function SetupPage() {
  if (!(await setupRequired())) redirect('/login');
  return (
    <AuthFrame
      title="Set up Enclave"
      subtitle="Create the first administrator and the organization's certificate authority"
      width={760}
    >
      <SetupWizard />
    </AuthFrame>
  );
}
