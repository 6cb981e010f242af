'use client';

import { Alert, Button, Group, Modal, PasswordInput, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { $api, type ApiError } from '@/lib/api';
import { applyServerErrors } from '@/lib/form-errors';

const schema = z.object({
  username: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9_-]{3,32}$/, '3 to 32 characters among a-z, 0-9, "_" and "-"'),
  password: z.string().min(8, 'At least 8 characters'),
  firstName: z.string().trim().max(128, 'At most 128 characters'),
  lastName: z.string().trim().max(128, 'At most 128 characters'),
  email: z.union([z.literal(''), z.email('Enter a valid email address')]),
});
type Values = z.input<typeof schema>;
const FIELDS = ['username', 'password', 'firstName', 'lastName', 'email'] as const;
const CODE_FIELDS: Record<string, (typeof FIELDS)[number]> = {
  USERNAME_TAKEN: 'username',
  USER_EXISTS: 'username',
  USERNAME_INVALID: 'username',
  PASSWORD_TOO_SHORT: 'password',
};

export function CreateUserDialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { username: '', password: '', firstName: '', lastName: '', email: '' },
  });
  const create = $api.useMutation('post', '/api/admin/users');
  const { errors, isSubmitting } = form.formState;
  const close = () => {
    form.reset();
    onClose();
  };

  const onSubmit = form.handleSubmit(async (raw) => {
    const v = schema.parse(raw);
    try {
      const user = await create.mutateAsync({
        body: {
          username: v.username,
          password: v.password,
          ...(v.firstName ? { firstName: v.firstName } : {}),
          ...(v.lastName ? { lastName: v.lastName } : {}),
          ...(v.email ? { email: v.email } : {}),
        },
      });
      await queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/users'] });
      close();
      router.push(`/users/${encodeURIComponent(user.username)}`);
    } catch (err) {
      const e = err as ApiError;
      const field = e.code ? CODE_FIELDS[e.code] : undefined;
      if (field) form.setError(field, { type: 'server', message: e.message });
      else applyServerErrors(e, form.setError, FIELDS);
    }
  });

  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={opened} onClose={close} title="New user" size="lg">
      <form onSubmit={onSubmit} noValidate aria-label="New user">
        <Stack>
          {errors.root?.server && (
            <Alert color="red" role="alert" title="The user was not created">
              {errors.root.server.message}
            </Alert>
          )}
          <TextInput
            label="Username"
            description="Their Jami name in the organization; lower-case"
            data-autofocus
            {...form.register('username')}
            error={errors.username?.message}
          />
          <PasswordInput
            label="Initial password"
            description="They sign in to Jami with it"
            autoComplete="new-password"
            {...form.register('password')}
            error={errors.password?.message}
          />
          <SimpleGrid cols={2}>
            <TextInput label="First name" {...form.register('firstName')} error={errors.firstName?.message} />
            <TextInput label="Last name" {...form.register('lastName')} error={errors.lastName?.message} />
          </SimpleGrid>
          <TextInput label="Email" type="email" {...form.register('email')} error={errors.email?.message} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={isSubmitting}>
              Create user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
