// Test helper: a promise that must reject with our AppError of this code.
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.ts';

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected AppError ${code}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code);
  return error;
}
