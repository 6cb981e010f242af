/** The users list query from the page's URL, built the same way on the server (prefetch) and in the browser. */
export const USERS_PAGE_SIZE = 25;

export function usersQuery(params: { search?: string | null; page?: string | null }) {
  const query: { search?: string; page: number; pageSize: number } = {
    page: Math.max(1, Math.min(1_000_000, Number.parseInt(params.page ?? '1', 10) || 1)),
    pageSize: USERS_PAGE_SIZE,
  };
  const search = params.search?.trim().slice(0, 128);
  if (search) query.search = search;
  return { params: { query } };
}

export const userQuery = (username: string) => ({ params: { path: { username } } });

export function displayName(u: { firstName: string | null; lastName: string | null }): string {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}
