/**
 * A same-origin path to return to after sign-in (`?next=`); anything else (another origin, a
 * protocol-relative or backslash URL, a missing value) falls back to the dashboard.
 */
export function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith('/') || value.length > 2048) return '/';
  const hasControl = [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  return /^\/[/\\]/.test(value) || hasControl ? '/' : value;
}
