/** The "lost device" search: devices organisation-wide whose name, owner or ID prefix matches the box. */
export function deviceSearchQuery(q: string | null | undefined) {
  const search = q?.trim().slice(0, 128) ?? '';
  return search ? { params: { query: { search, limit: 50 } } } : undefined;
}
