/**
 * Shared CLI plumbing: one-line errors with exit codes (CONTRACT.md: 2 for user errors, 1 otherwise),
 * option parsing helpers and progress reporting.
 */
import { UserInputError, DeepSourceError } from '../core/errors';

/** Prints an error as one line and returns the exit code. User errors get no stack trace. */
export function reportError(err: unknown): number {
  if (err instanceof UserInputError) {
    process.stderr.write(`deepsource: ${oneLine(err.message)}\n`);
    return 2;
  }
  if (err instanceof DeepSourceError) {
    process.stderr.write(`deepsource: ${oneLine(err.message)}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`deepsource: ${oneLine(message)}\n`);
  if (process.env.DEEPSOURCE_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return 1;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Wraps a command action: errors become one line and an exit code, never an unhandled rejection.
 * Usage: `.action(action(async (opts) => { ... }))`.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Parses an integer option, naming the option in the error. */
export function parseIntOption(name: string, { min, max }: { min?: number; max?: number } = {}): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^[-+]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new UserInputError(`${name} must be an integer, got ${JSON.stringify(value)}`);
    }
    if (min !== undefined && n < min) throw new UserInputError(`${name} must be >= ${min}, got ${n}`);
    if (max !== undefined && n > max) throw new UserInputError(`${name} must be <= ${max}, got ${n}`);
    return n;
  };
}

/** Parses an option that must be one of `choices`, naming the option in the error. */
export function parseChoiceOption<T extends string>(name: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) throw new UserInputError(`${name} must be ${choices.join(' or ')}, got ${JSON.stringify(value)}`);
    return value as T;
  };
}

/** Parses a floating-point option, naming the option in the error. */
export function parseFloatOption(name: string, { min, max }: { min?: number; max?: number } = {}): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UserInputError(`${name} must be a number, got ${JSON.stringify(value)}`);
    if (min !== undefined && n < min) throw new UserInputError(`${name} must be >= ${min}, got ${n}`);
    if (max !== undefined && n > max) throw new UserInputError(`${name} must be <= ${max}, got ${n}`);
    return n;
  };
}
