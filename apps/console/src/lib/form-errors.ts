import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';

/**
 * Puts the server's validation problems on the form fields they name. The server reports
 * `details.problems` as messages starting with the field path ("admin.password must be …") and may name
 * one field in `details.field`; what matches no field becomes the form's root error.
 */
export function applyServerErrors<T extends FieldValues>(
  error: { message?: string; code?: string; details?: unknown },
  setError: UseFormSetError<T>,
  fields: readonly Path<T>[],
): void {
  const details = (error.details ?? {}) as { problems?: unknown; field?: unknown };
  const problems = Array.isArray(details.problems) ? details.problems.map(String) : [];
  const unmatched: string[] = [];
  for (const problem of problems) {
    const name = problem.split(' ')[0];
    const field = fields.find((f) => f === name);
    if (field) setError(field, { type: 'server', message: problem });
    else unmatched.push(problem);
  }
  const named = typeof details.field === 'string' ? fields.find((f) => f === details.field) : undefined;
  if (named) setError(named, { type: 'server', message: error.message ?? 'Invalid value' });
  if (!problems.length && !named) unmatched.push(error.message ?? 'The server refused the request');
  if (unmatched.length) {
    setError('root.server' as Path<T>, { type: 'server', message: unmatched.join('; ') });
  }
}
