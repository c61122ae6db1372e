/**
 * Server errors, recognised by their numeric `code` and never by `instanceof`: the application's client may come
 * from another copy (or major version) of the driver than ours, whose error classes are not ours.
 */

/** Duplicate key on insert; an upsert that hits a duplicate reports code 1 on DocumentDB instead. */
export const DUPLICATE_KEY = 11000;

/**
 * "This server does not run that": CommandNotSupported (115), an unknown pipeline stage (40324) or expression operator
 * (168, 31325).
 */
export const UNSUPPORTED_FEATURE_CODES: ReadonlySet<number> = new Set([115, 40324, 168, 31325]);

/** Whether `error` carries one of `codes`. */
export function hasCode(error: unknown, codes: ReadonlySet<number>): boolean {
  const code = errorCode(error);
  return code !== undefined && codes.has(code);
}

/** The `code` of a driver or server error, if it has one. */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The per-operation errors of a bulk write failure (`writeErrors` is one object or an array, by driver version), each
 * with the index of its operation (-1 if none is given); undefined when the failure has none.
 */
export function writeErrorsOf(error: unknown): Array<{ readonly code: unknown; readonly index: number }> | undefined {
  const writeErrors = (error as { writeErrors?: unknown } | null | undefined)?.writeErrors;
  if (writeErrors === undefined || writeErrors === null) return undefined;
  const list = [writeErrors].flat() as Array<{ code?: unknown; index?: unknown } | null | undefined>;
  if (list.length === 0) return undefined;
  return list.map((e) => ({ code: e?.code, index: typeof e?.index === 'number' ? e.index : -1 }));
}

/** A duplicate key, alone or as every failure of a bulk write. */
export function isDuplicateKey(error: unknown): boolean {
  const bulk = writeErrorsOf(error);
  if (bulk) return bulk.every((e) => e.code === DUPLICATE_KEY);
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
