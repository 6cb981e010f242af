import type { paths } from '@enclave/api-client';
import { dehydrate, QueryClient, type DehydratedState } from '@tanstack/react-query';
import { serverApi } from './server-api';
import type { ConsoleSession } from './session';

type GetPath = { [P in keyof paths]: paths[P] extends { get: object } ? P : never }[keyof paths];

/** One GET the page needs, keyed exactly as openapi-react-query keys it (`['get', path, init]`). */
export interface Prefetch {
  path: GetPath;
  init?: { params?: { query?: Record<string, unknown>; path?: Record<string, string> } };
}

/**
 * Runs a page's queries on the server with the admin's token and returns the state the client hydrates,
 * so the first HTML already holds the data. A failed query is left for the client to retry and report.
 */
export async function prefetch(session: ConsoleSession, queries: Prefetch[]): Promise<DehydratedState> {
  const api = await serverApi(session.token);
  const qc = new QueryClient();
  await Promise.all(
    queries.map(({ path, init }) =>
      qc.prefetchQuery({
        queryKey: init === undefined ? ['get', path] : ['get', path, init],
        queryFn: async () => {
          const { data, error } = await (
            api.GET as (p: string, i?: unknown) => Promise<{ data?: unknown; error?: unknown }>
          )(path, init);
          if (error !== undefined) throw error;
          return data;
        },
      }),
    ),
  );
  return dehydrate(qc);
}
