'use client';

import type { Schemas } from '@enclave/api-client';
import {
  Alert,
  Button,
  Checkbox,
  Group,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useQueryClient } from '@tanstack/react-query';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { useCan } from '@/components/shell/me';
import { $api, type ApiError } from '@/lib/api';
import { applyServerErrors } from '@/lib/form-errors';

const schema = z
  .object({
    type: z.enum(['local', 'ldap', 'ad']),
    url: z.string().trim(),
    startTls: z.boolean(),
    caCertPem: z.string().trim(),
    bindDn: z.string().trim(),
    bindPassword: z.string(),
    baseDn: z.string().trim(),
    userFilter: z.string().trim(),
    usernameAttribute: z.string().trim(),
    groupBaseDn: z.string().trim(),
    groupFilter: z.string().trim(),
    syncIntervalMinutes: z.number({ error: 'Enter a number of minutes' }).int('Whole minutes').min(0, 'Not negative'),
    fullSyncHours: z.number({ error: 'Enter a number of hours' }).int('Whole hours').min(1, 'At least 1'),
    brakePercent: z.number({ error: 'Enter a percentage' }).min(0, '0 to 100').max(100, '0 to 100'),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'local') return;
    if (!/^ldaps?:\/\/[^/\s]+/i.test(v.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'An ldap:// or ldaps:// URL, e.g. ldaps://ldap.example.org',
      });
    }
    if (!v.baseDn)
      ctx.addIssue({
        code: 'custom',
        path: ['baseDn'],
        message: 'Where the users are, e.g. ou=people,dc=example,dc=org',
      });
  });
type Values = z.infer<typeof schema>;
const FIELDS = [
  'type',
  'url',
  'startTls',
  'caCertPem',
  'bindDn',
  'bindPassword',
  'baseDn',
  'userFilter',
  'usernameAttribute',
  'groupBaseDn',
  'groupFilter',
  'syncIntervalMinutes',
  'fullSyncHours',
  'brakePercent',
] as const;

/** The form's values from the stored settings; a never-saved configuration may omit fields (defaults apply). */
function toValues(s: Partial<Schemas['DirectorySettingsResponseDto']>): Values {
  return {
    type: s.type ?? 'local',
    url: s.url ?? '',
    startTls: s.startTls ?? false,
    caCertPem: s.caCertPem ?? '',
    bindDn: s.bindDn ?? '',
    bindPassword: '',
    baseDn: s.baseDn ?? '',
    userFilter: s.userFilter ?? '',
    usernameAttribute: s.usernameAttribute ?? '',
    groupBaseDn: s.groupBaseDn ?? '',
    groupFilter: s.groupFilter ?? '',
    syncIntervalMinutes: s.syncIntervalMinutes ?? 60,
    fullSyncHours: s.fullSyncHours ?? 24,
    brakePercent: s.brakePercent ?? 10,
  };
}

/** LDAP / AD settings; the bind password is write-only (left empty, the stored one is kept). */
export function DirectorySettingsForm({ settings }: { settings: Schemas['DirectorySettingsResponseDto'] }) {
  const canManage = useCan('manage');
  const queryClient = useQueryClient();
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: toValues(settings) });
  const save = $api.useMutation('put', '/api/admin/directory');
  const { errors, isSubmitting, isDirty } = form.formState;
  const type = form.watch('type');

  const onSubmit = form.handleSubmit(async (v) => {
    const body: Schemas['DirectorySettingsDto'] =
      v.type === 'local'
        ? { type: 'local' }
        : {
            type: v.type,
            url: v.url,
            startTls: v.startTls,
            ...(v.caCertPem ? { caCertPem: v.caCertPem } : {}),
            bindDn: v.bindDn,
            ...(v.bindPassword ? { bindPassword: v.bindPassword } : {}),
            baseDn: v.baseDn,
            ...(v.userFilter ? { userFilter: v.userFilter } : {}),
            ...(v.usernameAttribute ? { usernameAttribute: v.usernameAttribute } : {}),
            ...(v.groupBaseDn ? { groupBaseDn: v.groupBaseDn } : {}),
            ...(v.groupFilter ? { groupFilter: v.groupFilter } : {}),
            syncIntervalMinutes: v.syncIntervalMinutes,
            fullSyncHours: v.fullSyncHours,
            brakePercent: v.brakePercent,
          };
    try {
      const saved = await save.mutateAsync({ body });
      queryClient.setQueryData(['get', '/api/admin/directory'], saved);
      form.reset(toValues(saved));
    } catch (err) {
      applyServerErrors(err as ApiError, form.setError, FIELDS);
    }
  });

  const num = (name: 'syncIntervalMinutes' | 'fullSyncHours' | 'brakePercent', label: string, description: string) => (
    <Controller
      control={form.control}
      name={name}
      render={({ field }) => (
        <NumberInput
          label={label}
          description={description}
          value={field.value}
          onChange={(v) => field.onChange(typeof v === 'number' ? v : Number(v))}
          onBlur={field.onBlur}
          error={errors[name]?.message}
        />
      )}
    />
  );

  return (
    <form onSubmit={onSubmit} noValidate aria-label="Directory settings">
      <Stack>
        {errors.root?.server && (
          <Alert color="red" role="alert" title="Not saved">
            {errors.root.server.message}
          </Alert>
        )}
        {save.isSuccess && !isDirty && (
          <Alert color="green" title="Saved">
            Test the connection, then run a sync.
          </Alert>
        )}
        <Controller
          control={form.control}
          name="type"
          render={({ field }) => (
            <Stack gap={4}>
              <Text size="sm" fw={500} id="directory-type-label">
                User source
              </Text>
              <SegmentedControl
                aria-labelledby="directory-type-label"
                value={field.value}
                onChange={field.onChange}
                data={[
                  { value: 'local', label: 'Local users' },
                  { value: 'ldap', label: 'LDAP' },
                  { value: 'ad', label: 'Active Directory' },
                ]}
                maw={420}
              />
            </Stack>
          )}
        />
        {type !== 'local' && (
          <>
            <SimpleGrid cols={2}>
              <TextInput
                label="URL"
                placeholder="ldaps://ldap.example.org"
                {...form.register('url')}
                error={errors.url?.message}
              />
              <Checkbox mt={30} label="StartTLS (on an ldap:// URL)" {...form.register('startTls')} />
              <TextInput label="Bind DN" {...form.register('bindDn')} error={errors.bindDn?.message} />
              <PasswordInput
                label="Bind password"
                description={settings.bindPasswordSet ? 'Stored; leave empty to keep it' : 'Not set'}
                autoComplete="new-password"
                {...form.register('bindPassword')}
                error={errors.bindPassword?.message}
              />
              <TextInput label="Base DN" {...form.register('baseDn')} error={errors.baseDn?.message} />
              <TextInput label="User filter" {...form.register('userFilter')} error={errors.userFilter?.message} />
              <TextInput
                label="Username attribute"
                description={type === 'ad' ? 'Default sAMAccountName' : 'Default uid'}
                {...form.register('usernameAttribute')}
                error={errors.usernameAttribute?.message}
              />
              <TextInput label="Group base DN" {...form.register('groupBaseDn')} error={errors.groupBaseDn?.message} />
              <TextInput label="Group filter" {...form.register('groupFilter')} error={errors.groupFilter?.message} />
            </SimpleGrid>
            <Textarea
              label="CA certificate of the directory (PEM)"
              description="Only if its TLS certificate is not publicly trusted"
              autosize
              minRows={2}
              maxRows={6}
              styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
              {...form.register('caCertPem')}
              error={errors.caCertPem?.message}
            />
            <SimpleGrid cols={3}>
              {num('syncIntervalMinutes', 'Sync every (minutes)', '0 turns scheduled syncs off')}
              {num('fullSyncHours', 'Full sync every (hours)', 'Incremental runs in between')}
              {num('brakePercent', 'Mass-deletion brake (%)', 'A run suspending more waits for confirmation')}
            </SimpleGrid>
          </>
        )}
        {canManage && (
          <Group>
            <Button type="submit" loading={isSubmitting} disabled={!isDirty}>
              Save settings
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
