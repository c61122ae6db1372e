import type { Document } from 'mongodb';

/** Top-level operators that only combine other conditions. */
const LOGICAL_OPERATORS: ReadonlySet<string> = new Set(['$and', '$or', '$nor']);

/**
 * The top-level fields a query filter's outcome depends on, when the filter is a function of those fields' values
 * alone: a document that still holds exactly the values it held when it matched still matches. `undefined` when that
 * cannot be told from the filter's shape: `$expr`, `$where`, `$jsonSchema`, `$text`, `$sampleRate` or any other
 * top-level operator, or a `$type` anywhere (it tells apart values that compare equal, such as 5 and 5.0, which the
 * toolkit's exact comparison only does at the top level of a field).
 */
export function filterFields(filter: Document): string[] | undefined {
  const fields = new Set<string>();
  const visit = (condition: Document): boolean => {
    for (const [key, value] of Object.entries(condition)) {
      if (key === '$comment') continue;
      if (LOGICAL_OPERATORS.has(key)) {
        if (!Array.isArray(value) || !value.every((part) => isPlainObject(part) && visit(part))) return false;
        continue;
      }
      if (key.startsWith('$')) return false;
      if (mentionsType(value)) return false;
      fields.add(key.split('.')[0] as string);
    }
    return true;
  };
  return visit(filter) ? [...fields] : undefined;
}

function mentionsType(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentionsType);
  if (!isPlainObject(value)) return false;
  return Object.entries(value).some(([key, inner]) => key === '$type' || mentionsType(inner));
}

/** A plain object (not a BSON value, a date, a regular expression or an array). */
function isPlainObject(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || '_bsontype' in value) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
