import { Center, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** The centered card of the sign-in and setup pages. */
export function AuthFrame({
  title,
  subtitle,
  width = 420,
  children,
}: {
  title: string;
  subtitle?: string;
  width?: number;
  children: ReactNode;
}) {
  return (
    <Center component="main" mih="100vh" bg="gray.0" p="md">
      <Stack w={width} maw="100%" gap="lg">
        <Stack gap={4} align="center">
          <Text fw={800} size="xl" c="indigo.7" aria-hidden>
            ◆ Enclave
          </Text>
          <Title order={1} size="h2" ta="center">
            {title}
          </Title>
          {subtitle && (
            <Text c="dimmed" ta="center">
              {subtitle}
            </Text>
          )}
        </Stack>
        <Paper withBorder shadow="sm" p="xl" radius="md">
          {children}
        </Paper>
      </Stack>
    </Center>
  );
}
