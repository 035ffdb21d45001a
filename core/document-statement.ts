// The statement the centre signs for each printed copy (docs/documents.md): which copy it is
// (its serial), of which municipality and type, issued on which JST date, and the SHA-256 of the
// copy's file with the statement and its QR code left blank. It is the body of a signed note
// (C2SP signed-note, core/signed-note.ts) under the key name DOCUMENT_KEY_NAME, so it cannot
// pass for an audit checkpoint, whose notes are signed under the centre's log origin.

import { parseCertificateSerial } from './certificate-serial.ts';
import { AppError } from './errors.ts';

export const DOCUMENT_STATEMENT_HEADER = 'cvs-issue certificate v1';

/** The name the centre signs documents under; its verifier key is printed by `center document-key`. */
export const DOCUMENT_KEY_NAME = 'cvs-issue/center/documents';

export interface DocumentStatement {
  /** <request id>-<copy> (core/certificate-serial.ts). */
  serial: string;
  municipalityCode: string;
  certificateType: string;
  /** YYYY-MM-DD in JST. */
  issuedOn: string;
  /** Lower-case hex of the copy's file with the statement and the QR code blank (drivers/pdf/document-seal.ts). */
  contentSha256: string;
}

const FIELD_CHECKS: Record<keyof DocumentStatement, { test(value: string): boolean }> = {
  serial: { test: (value) => parseCertificateSerial(value) !== undefined },
  municipalityCode: /^\d{6}$/,
  certificateType: /^[a-z][a-z0-9-]{0,31}$/,
  issuedOn: /^\d{4}-\d{2}-\d{2}$/,
  contentSha256: /^[0-9a-f]{64}$/,
};

const LINE_NAMES: [keyof DocumentStatement, string][] = [
  ['serial', 'serial'],
  ['municipalityCode', 'municipality'],
  ['certificateType', 'type'],
  ['issuedOn', 'issued'],
  ['contentSha256', 'sha256'],
];

export function formatDocumentStatement(statement: DocumentStatement): string {
  for (const [field] of LINE_NAMES) {
    if (!FIELD_CHECKS[field].test(statement[field])) throw new AppError('internal', 'document.bad_statement', `the statement's ${field} is malformed`);
  }
  return `${DOCUMENT_STATEMENT_HEADER}\n${LINE_NAMES.map(([field, name]) => `${name} ${statement[field]}`).join('\n')}\n`;
}

/** The statement of a note body, or undefined when the body is not one (another kind of note, another version). */
export function parseDocumentStatement(body: string): DocumentStatement | undefined {
  const lines = body.split('\n');
  if (lines.length !== LINE_NAMES.length + 2 || lines[0] !== DOCUMENT_STATEMENT_HEADER || lines.at(-1) !== '') return undefined;
  const statement: Partial<DocumentStatement> = {};
  for (const [index, [field, name]] of LINE_NAMES.entries()) {
    const line = lines[index + 1]!;
    if (!line.startsWith(`${name} `)) return undefined;
    const value = line.slice(name.length + 1);
    if (!FIELD_CHECKS[field].test(value)) return undefined;
    statement[field] = value;
  }
  return statement as DocumentStatement;
}
