import type { Document } from 'mongodb';
import { bsonTypeOf, sameValue } from './backup-document.js';

/** Top-level operators that only combine other conditions. */
const LOGICAL_OPERATORS: ReadonlySet<string> = new Set(['$and', '$or', '$nor']);

/**
 * Field operators whose outcome is the same for any two values that the toolkit's exact comparison finds equal: they
 * compare by value (numbers of any type alike, a string alike with a symbol, as aggregation `$eq` does). Left out:
 * `$type`, `$regex` (on DocumentDB it does not match a symbol, which `$eq` finds equal to the string), the `$bits…`
 * tests (on DocumentDB they tell a Decimal from the Double of the same value), `$mod`, geo and text operators.
 */
const VALUE_OPERATORS: ReadonlySet<string> = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$size', '$all', '$elemMatch', '$not']);

/**
 * The top-level fields a query filter's outcome depends on, when it is a function of those fields' values as the
 * toolkit compares them: a document that still holds exactly (`exactExpression`) the values it held when it matched
 * still matches. `undefined` when that cannot be told from the filter's shape: a top-level operator other than
 * `$and`/`$or`/`$nor`/`$comment` (`$expr`, `$where`, `$jsonSchema`, `$text`…), a field operator outside
 * `VALUE_OPERATORS`, or a regular expression anywhere.
 */
export function filterFields(filter: Document): string[] | undefined {
  const fields = new Set<string>();
  const visit = (query: Document): boolean => {
    for (const [key, value] of Object.entries(query)) {
      if (key === '$comment') continue;
      if (LOGICAL_OPERATORS.has(key)) {
        if (!Array.isArray(value) || !value.every((part) => isPlainObject(part) && visit(part))) return false;
        continue;
      }
      if (key.startsWith('$') || !byValue(value)) return false;
      fields.add(key.split('.')[0] as string);
    }
    return true;
  };
  return visit(filter) ? [...fields] : undefined;
}

/** Whether a field's condition (a value, or an object of operators) decides by value alone. */
function byValue(condition: unknown): boolean {
  if (isRegExp(condition)) return false;
  if (Array.isArray(condition)) return condition.every(byValue);
  if (!isPlainObject(condition)) return true;
  const keys = Object.keys(condition);
  // An embedded document compared whole: only values inside.
  if (!keys.some((k) => k.startsWith('$'))) return Object.values(condition).every(byValue);
  return keys.every((op) => {
    if (!VALUE_OPERATORS.has(op)) return false;
    const operand: unknown = condition[op];
    // `$elemMatch` holds either operators or a query on the elements' fields.
    if (op === '$elemMatch') return isPlainObject(operand) && Object.entries(operand).every(([k, v]) => (LOGICAL_OPERATORS.has(k) ? Array.isArray(v) && v.every(byValue) : byValue(k.startsWith('$') ? { [k]: v } : v)));
    return byValue(operand);
  });
}

function isRegExp(value: unknown): boolean {
  return value instanceof RegExp || (typeof value === 'object' && value !== null && (value as { _bsontype?: unknown })._bsontype === 'BSONRegExp');
}

/** A plain object (not a BSON value, a date, a regular expression or an array). */
function isPlainObject(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || '_bsontype' in value) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Whether a document whose field holds `value` matches the query equality `{ field: wanted }`, as the server decides
 * it: numbers by value whatever their type (1, Long 1, 1.0 and Decimal 1 alike), a string alike with a symbol, an
 * array when one of its elements matches.
 */
export function matchesEquality(wanted: unknown, value: unknown): boolean {
  if (Array.isArray(value) && value.some((element) => equalInQuery(wanted, element))) return true;
  return equalInQuery(wanted, value);
}

function equalInQuery(a: unknown, b: unknown): boolean {
  // Whole numbers beyond 2^53 are told apart exactly (a Long and a bigint as integers).
  const [ia, ib] = [integerOf(a), integerOf(b)];
  if (ia !== undefined && ib !== undefined) return ia === ib;
  const [na, nb] = [numberOf(a), numberOf(b)];
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && (na === nb || (Number.isNaN(na) && Number.isNaN(nb)));
  const [sa, sb] = [stringOf(a), stringOf(b)];
  if (sa !== undefined || sb !== undefined) return sa === sb;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  return sameValue(a, b);
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const type = bsonTypeOf(value);
  if (type === 'Int32' || type === 'Double') return Number((value as { value: unknown }).value);
  if (type === 'Long' || type === 'Decimal128') return Number(String(value));
  return undefined;
}

function integerOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  const type = bsonTypeOf(value);
  if (type === 'Long') return BigInt(String(value));
  if (type === 'Int32') return BigInt(Number((value as { value: unknown }).value));
  return undefined;
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return bsonTypeOf(value) === 'BSONSymbol' ? String(value) : undefined;
}

