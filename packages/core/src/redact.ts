import { ConnectionString, redactConnectionString } from 'mongodb-connection-string-url';

const CONNECTION_STRING = /mongodb(?:\+srv)?:\/\/[^\s"'`<>]+/g;

/** Replaces the credentials of every MongoDB connection string inside `text`. */
export function redactSecrets(text: string): string {
  return text.replace(CONNECTION_STRING, (uri) => redactConnectionString(uri));
}

/** Like `redactSecrets`, through strings nested in arrays, plain objects and errors. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const copy = new Error(redactSecrets(value.message));
    copy.name = value.name;
    if (value.stack) copy.stack = redactSecrets(value.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, depth + 1)]));
}

/**
 * Whether a connection string carries anything `redactSecrets` hides (a user, a password, a token), judged against the
 * string as the parser writes it back (which may add a `/`), so that a plain `mongodb://host:port` carries nothing.
 */
export function carriesSecret(uri: string): boolean {
  let plain: string;
  try {
    plain = new ConnectionString(uri).toString();
  } catch {
    return redactSecrets(uri) !== uri;
  }
  return redactSecrets(plain) !== plain;
}
