// Test helper: a promise that must reject with our AppError of this code.
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.ts';

/** Also checks the error's kind and message when given. */
export async function rejectsWith(promise: Promise<unknown>, code: string, expected: { kind?: AppError['kind']; message?: RegExp } = {}): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected AppError ${code}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code);
  if (expected.kind !== undefined) assert.equal(error.kind, expected.kind);
  if (expected.message !== undefined) assert.match(error.message, expected.message);
  return error;
}

/** What `make` did: 'accepted', or the code of the AppError it threw (for tables of cases). */
export function outcomeOf(make: () => unknown): string {
  try {
    make();
    return 'accepted';
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
}
