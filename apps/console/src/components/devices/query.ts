/** The "lost device" search: the people matching the box, whose devices are then listed. */
export function deviceSearchQuery(q: string | null | undefined) {
  const search = q?.trim().slice(0, 128) ?? '';
  return search ? { params: { query: { search, page: 1, pageSize: 10 } } } : undefined;
}
