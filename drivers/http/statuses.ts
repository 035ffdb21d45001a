// Typed errors and HTTP statuses, both ways. The status says what HTTP clients need to know; the
// error body also names the kind, so our own client rebuilds exactly the error the peer raised
// (several kinds share a status: 400 for usage and input, 403 for refused and unauthorized).

import { AppError, ERROR_KINDS, type ErrorKind } from '../../core/errors.ts';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  usage: 400,
  input: 400,
  refused: 403,
  unauthorized: 403,
  'not-found': 404,
  conflict: 409,
  differences: 409,
  unavailable: 503,
  internal: 500,
};

/** For an answer without a kind (another server, a proxy): the likeliest kind for the status. */
const KIND_BY_STATUS: Record<number, ErrorKind> = { 400: 'input', 401: 'unauthorized', 403: 'refused', 404: 'not-found', 405: 'input', 409: 'conflict', 413: 'input', 503: 'unavailable' };

export function httpStatusFor(error: unknown): number {
  return error instanceof AppError ? STATUS_BY_KIND[error.kind] : 500;
}

export function kindOfAnswer(status: number, kind: unknown): ErrorKind {
  if (typeof kind === 'string' && (ERROR_KINDS as readonly string[]).includes(kind)) return kind as ErrorKind;
  return KIND_BY_STATUS[status] ?? 'internal';
}
