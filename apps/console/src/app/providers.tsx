'use client';

import {
  MantineProvider,
  createTheme,
  defaultVariantColorsResolver,
  parseThemeColor,
  type CSSVariablesResolver,
  type VariantColorsResolver,
} from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';

// Text of "light" and "subtle" badges, buttons and alerts one notch darker than Mantine's default, which is below WCAG AA
// contrast on their tinted background (axe-core checks every page in the tests).
const LOW_CONTRAST = new Set(['yellow', 'orange', 'lime']);
const variantColorResolver: VariantColorsResolver = (input) => {
  const colors = defaultVariantColorsResolver(input);
  if (input.variant !== 'light' && input.variant !== 'subtle') return colors;
  const parsed = parseThemeColor({ color: input.color || input.theme.primaryColor, theme: input.theme });
  if (!parsed.isThemeColor) return colors;
  const text = LOW_CONTRAST.has(parsed.color)
    ? 'var(--mantine-color-dark-7)'
    : `var(--mantine-color-${parsed.color}-9)`;
  return { ...colors, color: text };
};

const theme = createTheme({
  variantColorResolver,
  primaryColor: 'indigo',
  // Shade 7 keeps white button text above WCAG AA contrast.
  primaryShade: 7,
  defaultRadius: 'md',
  // System fonts only: nothing is downloaded at build or run time.
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif' },
});

// Secondary text darker than Mantine's default gray.6, which is below 4.5:1 on light backgrounds.
const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-placeholder': 'var(--mantine-color-gray-6)',
  },
  dark: {},
});

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          // Server-prefetched data is fresh on hydration; no refetch flash on load.
          queries: {
            staleTime: 30_000,
            retry: (count, err) => count < 2 && !(err as { statusCode?: number })?.statusCode,
          },
        },
      }),
  );
  return (
    <MantineProvider theme={theme} defaultColorScheme="light" cssVariablesResolver={cssVariables}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </MantineProvider>
  );
}
