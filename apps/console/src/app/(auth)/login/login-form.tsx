'use client';

import { Alert, Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { signIn } from '@/lib/actions';

const schema = z.object({
  username: z.string().trim().min(1, 'Enter your username'),
  password: z.string().min(1, 'Enter your password'),
  totp: z
    .string()
    .trim()
    .regex(/^(\d{6})?$/, 'The code has 6 digits')
    .optional(),
  recoveryCode: z.string().trim().optional(),
});
type Values = z.infer<typeof schema>;

export function LoginForm({ next, expired }: { next: string; expired: boolean }) {
  const [secondFactor, setSecondFactor] = useState<'none' | 'totp' | 'recovery'>('none');
  const totpRef = useRef<HTMLInputElement | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { username: '', password: '' } });
  const { errors, isSubmitting } = form.formState;

  useEffect(() => {
    if (secondFactor !== 'none') totpRef.current?.focus();
  }, [secondFactor]);

  const onSubmit = form.handleSubmit(async (values) => {
    const result = await signIn({
      username: values.username,
      password: values.password,
      totp: secondFactor === 'totp' ? values.totp : undefined,
      recoveryCode: secondFactor === 'recovery' ? values.recoveryCode : undefined,
    });
    if (result.ok) {
      window.location.assign(next);
      return;
    }
    const { code, message, status } = result.error;
    if (code === 'MFA_REQUIRED') {
      setSecondFactor((s) => (s === 'none' ? 'totp' : s));
      if (secondFactor !== 'none') form.setError('totp', { message });
      return;
    }
    if (status === 401 || status === 403) {
      form.setError('root.server', { message: 'Wrong username, password or code' });
    } else {
      form.setError('root.server', { message });
    }
  });

  const totpField = form.register('totp');
  const recoveryField = form.register('recoveryCode');
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Sign in">
      <Stack>
        {expired && !errors.root && (
          <Alert color="yellow" title="Signed out">
            Your session ended after a period of inactivity. Sign in to continue where you were.
          </Alert>
        )}
        {errors.root?.server && (
          <Alert color="red" title="Sign-in failed" role="alert">
            {errors.root.server.message}
          </Alert>
        )}
        <TextInput
          label="Username"
          autoComplete="username"
          autoFocus
          {...form.register('username')}
          error={errors.username?.message}
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          {...form.register('password')}
          error={errors.password?.message}
        />
        {secondFactor === 'totp' && (
          <TextInput
            label="Authentication code"
            description="The 6-digit code from your authenticator app"
            inputMode="numeric"
            autoComplete="one-time-code"
            {...totpField}
            ref={(el) => {
              totpField.ref(el);
              totpRef.current = el;
            }}
            error={errors.totp?.message}
          />
        )}
        {secondFactor === 'recovery' && (
          <TextInput
            label="Recovery code"
            description="One of the recovery codes you saved when you set up two-factor sign-in"
            autoComplete="off"
            {...recoveryField}
            ref={(el) => {
              recoveryField.ref(el);
              totpRef.current = el;
            }}
            error={errors.recoveryCode?.message}
          />
        )}
        {secondFactor !== 'none' && (
          <Anchor
            component="button"
            type="button"
            size="sm"
            onClick={() => setSecondFactor(secondFactor === 'totp' ? 'recovery' : 'totp')}
          >
            {secondFactor === 'totp' ? 'Use a recovery code instead' : 'Use an authenticator code instead'}
          </Anchor>
        )}
        <Button type="submit" loading={isSubmitting} fullWidth>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
