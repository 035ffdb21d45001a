// Typed errors with stable codes. Only cmd/cvs-issue.ts turns them into exit codes, and only the
// HTTP adapters (drivers/http/statuses.ts) turn them into statuses; the domain never speaks either.

export type ErrorKind =
  | 'usage' // wrong flag, bad argument: exit 2
  | 'input' // malformed file or request: exit 2
  | 'refused' // a business rule said no (card expired, outside hours …)
  | 'unauthorized' // TLS peer not allowed
  | 'not-found'
  | 'conflict' // duplicate or locked
  | 'differences' // a job ran and found differences or tampering: exit 3
  | 'unavailable' // a peer did not answer in time: exit 1
  | 'internal'; // our bug: exit 1

export const ERROR_KINDS: readonly ErrorKind[] = ['usage', 'input', 'refused', 'unauthorized', 'not-found', 'conflict', 'differences', 'unavailable', 'internal'];

export class AppError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  /** Where: file:line, field, request id. Never personal data. */
  readonly where: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, where?: string) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.where = where;
  }

  /** One line a person can read: "where: message". */
  summary(): string {
    return this.where ? `${this.where}: ${this.message}` : this.message;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_DIFFERENCES = 3;

const exitCodeByKind: Record<ErrorKind, number> = {
  usage: EXIT_USAGE,
  input: EXIT_USAGE,
  refused: EXIT_FAILURE,
  unauthorized: EXIT_FAILURE,
  'not-found': EXIT_USAGE,
  conflict: EXIT_FAILURE,
  differences: EXIT_DIFFERENCES,
  unavailable: EXIT_FAILURE,
  internal: EXIT_FAILURE,
};


export function exitCodeFor(error: unknown): number {
  return error instanceof AppError ? exitCodeByKind[error.kind] : EXIT_FAILURE;
}

export function usageError(message: string, where?: string): AppError {
  return new AppError('usage', 'usage', message, where);
}

export function inputError(code: string, message: string, where?: string): AppError {
  return new AppError('input', code, message, where);
}

export function refusal(code: string, message: string): AppError {
  return new AppError('refused', code, message);
}
