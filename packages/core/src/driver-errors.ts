/**
 * Server errors, recognised by their numeric `code` and never by `instanceof`: the application's client may come
 * from another copy (or major version) of the driver than ours, whose error classes are not ours.
 */

/** Duplicate key on insert; an upsert that hits a duplicate reports code 1 on DocumentDB instead. */
export const DUPLICATE_KEY = 11000;

/** The `code` of a driver or server error, if it has one. */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The per-operation errors of a bulk write error (`writeErrors` is one object or an array, by driver version). */
export function writeErrorsOf(error: unknown): ReadonlyArray<{ readonly code?: unknown }> | undefined {
  const writeErrors = (error as { writeErrors?: unknown } | null | undefined)?.writeErrors;
  if (writeErrors === undefined || writeErrors === null) return undefined;
  return (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as ReadonlyArray<{ readonly code?: unknown }>;
}

/** A duplicate key, alone or as every failure of a bulk write. */
export function isDuplicateKey(error: unknown): boolean {
  const bulk = writeErrorsOf(error);
  if (bulk && bulk.length > 0) return bulk.every((e) => e.code === DUPLICATE_KEY);
  return errorCode(error) === DUPLICATE_KEY;
}

/** PostgreSQL deadlock (DocumentDB reports 16908292), write conflict (112), or a concurrent creation of the same collection or index. */
export function isTransient(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  const labels = (error as { errorLabels?: unknown }).errorLabels;
  const message = (error as { message?: unknown }).message;
  return (
    code === 16908292 ||
    code === 112 ||
    (Array.isArray(labels) && labels.includes('TransientTransactionError')) ||
    (typeof message === 'string' && /deadlock|concurrent|already exists|could not serialize/i.test(message))
  );
}

/** `error.message` for an Error, else the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
