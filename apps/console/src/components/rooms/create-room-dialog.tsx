'use client';

import { Alert, Button, Group, Modal, Stack, Switch, TextInput } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { $api, type ApiError } from '@/lib/api';
import { applyServerErrors } from '@/lib/form-errors';
import { PeoplePicker, toPeopleRef } from './people-picker';

const schema = z.object({
  name: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9_-]{3,32}$/, '3 to 32 characters among a-z, 0-9, "_" and "-"'),
  displayName: z.string().trim().max(128, 'At most 128 characters'),
  moderators: z.array(z.string()),
  members: z.array(z.string()),
  allParticipantsModerators: z.boolean(),
});
type Values = z.input<typeof schema>;
const FIELDS = ['name', 'displayName', 'moderators', 'members'] as const;

export function CreateRoomDialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { name: '', displayName: '', moderators: [], members: [], allParticipantsModerators: false },
  });
  const create = $api.useMutation('post', '/api/admin/rooms');
  const { errors, isSubmitting } = form.formState;
  const close = () => {
    form.reset();
    create.reset();
    onClose();
  };
  const submit = form.handleSubmit(async (raw) => {
    const v = schema.parse(raw);
    try {
      const room = await create.mutateAsync({
        body: {
          name: v.name,
          ...(v.displayName ? { displayName: v.displayName } : {}),
          moderators: toPeopleRef(v.moderators),
          ...(v.members.length ? { members: toPeopleRef(v.members) } : {}),
          allParticipantsModerators: v.allParticipantsModerators,
        },
      });
      await queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/rooms'] });
      close();
      router.push(`/rooms/${encodeURIComponent(room.name)}`);
    } catch (err) {
      const e = err as ApiError;
      applyServerErrors(e, form.setError, FIELDS);
      if (e.code === 'USERNAME_TAKEN' || e.code === 'ROOM_EXISTS') {
        form.setError('name', { type: 'server', message: e.message ?? 'This name is taken' });
      }
    }
  });
  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={opened} onClose={close} title="New room" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Room name"
            description="The room's Jami username: lowercase letters, digits, - and _"
            withAsterisk
            {...form.register('name')}
            error={errors.name?.message}
          />
          <TextInput label="Display name" {...form.register('displayName')} error={errors.displayName?.message} />
          <Controller
            control={form.control}
            name="moderators"
            render={({ field }) => (
              <PeoplePicker
                label="Default moderators"
                description="People and groups who moderate every call in this room"
                value={field.value}
                onChange={field.onChange}
                error={errors.moderators?.message}
              />
            )}
          />
          <Controller
            control={form.control}
            name="members"
            render={({ field }) => (
              <PeoplePicker
                label="Members"
                description="Only they may call the room; leave empty to let everyone in the organization call"
                value={field.value}
                onChange={field.onChange}
                error={errors.members?.message}
              />
            )}
          />
          <Controller
            control={form.control}
            name="allParticipantsModerators"
            render={({ field }) => (
              <Switch
                label="Every participant is a moderator"
                checked={field.value}
                onChange={(e) => field.onChange(e.currentTarget.checked)}
              />
            )}
          />
          {errors.root?.server && (
            <Alert color="red" role="alert" title="The room was not created">
              {errors.root.server.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={isSubmitting}>
              Create room
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
