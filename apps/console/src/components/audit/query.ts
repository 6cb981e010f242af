/** The audit filters a page URL carries, shared by the server prefetch, the client and the export link. */
export const AUDIT_FILTERS = ['actor', 'action', 'target', 'from', 'to'] as const;
export type AuditFilter = (typeof AUDIT_FILTERS)[number];
export const AUDIT_PAGE_SIZE = 50;

export function auditFilters(get: (name: string) => string | null | undefined): Partial<Record<AuditFilter, string>> {
  const out: Partial<Record<AuditFilter, string>> = {};
  for (const f of AUDIT_FILTERS) {
    const v = get(f)?.trim().slice(0, 256);
    if (v) out[f] = v;
  }
  return out;
}

export function auditQuery(get: (name: string) => string | null | undefined) {
  const query: Partial<Record<AuditFilter, string>> & { cursor?: string; limit: number } = {
    ...auditFilters(get),
    limit: AUDIT_PAGE_SIZE,
  };
  const cursor = get('cursor')?.trim().slice(0, 512);
  if (cursor) query.cursor = cursor;
  return { params: { query } };
}

/** The export through the console's proxy (it adds the admin's bearer; the browser never holds it). */
export function auditExportUrl(filters: Partial<Record<AuditFilter, string>>, format: 'csv' | 'json'): string {
  const q = new URLSearchParams({ ...filters, format });
  return `/console-api/api/admin/audit/export?${q.toString()}`;
}
