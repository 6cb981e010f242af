'use client';

import { MultiSelect } from '@mantine/core';
import { $api } from '@/lib/api';
import { PICKER_USERS_QUERY } from './query';

export interface PeopleRef {
  users: string[];
  groups: string[];
}

/** Users and groups in one searchable multi-select; values are `user:<username>` and `group:<id>`. */
export function toPeopleRef(values: string[]): PeopleRef {
  return {
    users: values.filter((v) => v.startsWith('user:')).map((v) => v.slice(5)),
    groups: values.filter((v) => v.startsWith('group:')).map((v) => v.slice(6)),
  };
}

export function PeoplePicker({
  label,
  description,
  value,
  onChange,
  error,
}: {
  label: string;
  description?: string;
  value: string[];
  onChange: (value: string[]) => void;
  error?: string;
}) {
  const users = $api.useQuery('get', '/api/admin/users', PICKER_USERS_QUERY);
  const groups = $api.useQuery('get', '/api/admin/groups');
  const data = [
    {
      group: 'Users',
      items: (users.data?.items ?? []).map((u) => ({
        value: `user:${u.username}`,
        label: [u.firstName, u.lastName].filter(Boolean).length
          ? `${[u.firstName, u.lastName].filter(Boolean).join(' ')} (${u.username})`
          : u.username,
      })),
    },
    {
      group: 'Groups',
      items: (groups.data ?? []).map((g) => ({ value: `group:${g.id}`, label: `${g.name} (group)` })),
    },
  ];
  return (
    <MultiSelect
      label={label}
      description={description}
      data={data}
      value={value}
      onChange={onChange}
      searchable
      clearable
      nothingFoundMessage="Nobody matches"
      placeholder="Type a name or a group"
      error={error}
      comboboxProps={{ withinPortal: true }}
    />
  );
}
