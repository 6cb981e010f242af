/** The users list query from the page's URL, built the same way on the server (prefetch) and in the browser. */
export const USERS_PAGE_SIZE = 25;

/** One keyset page of users: `cursor` is the previous page's `nextCursor` (absent for the first page). */
export function usersQuery(params: { search?: string | null; cursor?: string | null }) {
  const query: { search?: string; cursor?: string; limit: number } = { limit: USERS_PAGE_SIZE };
  const search = params.search?.trim().slice(0, 128);
  if (search) query.search = search;
  const cursor = params.cursor?.trim().slice(0, 512);
  if (cursor) query.cursor = cursor;
  return { params: { query } };
}

export const userQuery = (username: string) => ({ params: { path: { username } } });

export function displayName(u: { firstName: string | null; lastName: string | null }): string {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}
