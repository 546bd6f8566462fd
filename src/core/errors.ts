/**
 * One error taxonomy (STYLE.md habit 10). Every error we throw on purpose is a DeepSourceError.
 * `retriable` says whether trying again may succeed (network, S3 throttling); `cause` keeps the origin.
 */
export class DeepSourceError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad input from a user: wrong option, bad file. The CLI prints the message alone and exits with 2. */
export class UserInputError extends DeepSourceError {}

/** A file that is not valid FITS, Parquet, ... The message names the file and the problem. */
export class FormatError extends UserInputError {}

/** A remote system failed (S3, Kafka, PostgreSQL). Usually retriable. */
export class ServiceError extends DeepSourceError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { retriable: options.retriable ?? true, cause: options.cause });
  }
}

/** Formats a value for an error message without flooding it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? json.slice(0, 77) + '...' : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
