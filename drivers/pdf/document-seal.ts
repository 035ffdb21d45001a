// The signed statement in each certificate copy, and the QR code that carries it on paper
// (docs/documents.md). A certificate is written with two blanks of fixed size
// (drivers/pdf/pdf-recorder.ts): the statement, a hex string in the document info, and the QR
// code, a 1-bit stencil image on the first page. The copy's digest is SHA-256 of the whole file
// with both blank; the centre signs a statement over it and fills both in. Anyone holding the
// file and the centre's document key can blank them again, hash, and check: an edit anywhere
// else in the file changes the digest.

import { createHash } from 'node:crypto';
import { bytesEqual, hexDecode, hexEncode, utf8Decode, utf8Encode } from '../../core/bytes.ts';
import { DOCUMENT_KEY_NAME, formatDocumentStatement, parseDocumentStatement, type DocumentStatement } from '../../core/document-statement.ts';
import { AppError } from '../../core/errors.ts';
import { jstParts } from '../../core/jst.ts';
import type { CertificateContent } from '../../core/resident.ts';
import { openNote, signatureLines, signNote, type NoteSigner, type NoteVerifier } from '../../core/signed-note.ts';
import { sealQrModules, SEAL_QR_SIZE } from './qr-fixed.ts';
import { IMAGE_MARKER, QUIET_MODULES, ROW_BYTES, SEAL_IMAGE_BYTES, sealImagePlaceholder, STATEMENT_BYTES, STATEMENT_MARKER } from './seal-blanks.ts';

interface Region {
  start: number;
  end: number;
}

export interface SealRegions {
  statement: Region;
  image: Region;
}

/** Where a file's two blanks are: each marker exactly once, each blank its full size; undefined otherwise. */
export function sealRegions(pdf: Uint8Array): SealRegions | undefined {
  // Searched in the bytes (Buffer.indexOf), not in a string of the whole file: the centre does this for every copy.
  const bytes = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  const statementAt = onlyIndexOf(bytes, STATEMENT_MARKER);
  const imageAt = onlyIndexOf(bytes, IMAGE_MARKER);
  if (statementAt === undefined || imageAt === undefined) return undefined;
  const statement = { start: statementAt + STATEMENT_MARKER.length, end: statementAt + STATEMENT_MARKER.length + 2 * STATEMENT_BYTES };
  if (bytes[statement.end] !== 0x3e || !isLowerHex(bytes, statement.start, statement.end)) return undefined; // '>'
  const streamAt = bytes.indexOf(STREAM_START, imageAt, 'latin1');
  if (streamAt < 0 || bytes.subarray(imageAt, streamAt).includes('endobj', 0, 'latin1')) return undefined;
  const image = { start: streamAt + STREAM_START.length, end: streamAt + STREAM_START.length + SEAL_IMAGE_BYTES };
  if (bytes.toString('latin1', image.end, image.end + STREAM_END.length) !== STREAM_END) return undefined;
  return { statement, image };
}

const STREAM_START = '>>\nstream\n';
const STREAM_END = '\nendstream';

function isLowerHex(bytes: Uint8Array, start: number, end: number): boolean {
  for (let index = start; index < end; index += 1) {
    const byte = bytes[index]!;
    if (!((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66))) return false;
  }
  return true;
}

function onlyIndexOf(bytes: Buffer, marker: string): number | undefined {
  const first = bytes.indexOf(marker, 0, 'latin1');
  if (first < 0 || bytes.indexOf(marker, first + 1, 'latin1') >= 0) return undefined;
  return first;
}

/** SHA-256 (hex) of the file with both blanks as the writer left them. */
export function blankedDigest(pdf: Uint8Array, regions: SealRegions): string {
  // Hashed in order, the blanks as their placeholders, without copying the file.
  const blanks = [
    { ...regions.statement, fill: STATEMENT_BLANK },
    { ...regions.image, fill: IMAGE_BLANK },
  ].sort((left, right) => left.start - right.start);
  const hash = createHash('sha256');
  let at = 0;
  for (const blank of blanks) {
    hash.update(pdf.subarray(at, blank.start));
    hash.update(blank.fill);
    at = blank.end;
  }
  hash.update(pdf.subarray(at));
  return hash.digest('hex');
}

const STATEMENT_BLANK = new Uint8Array(2 * STATEMENT_BYTES).fill(0x30); // '0'
const IMAGE_BLANK = sealImagePlaceholder();

/** The signed note a file carries (NUL padding removed), as text; undefined when the blank was never filled. */
export function carriedNote(pdf: Uint8Array, regions: SealRegions): string | undefined | typeof MALFORMED {
  const hex = Buffer.from(pdf.subarray(regions.statement.start, regions.statement.end)).toString('latin1');
  const bytes = hexDecode(hex);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  if (end === 0) return undefined;
  if (bytes.subarray(0, end).includes(0)) return MALFORMED;
  try {
    return utf8Decode(bytes.subarray(0, end));
  } catch {
    return MALFORMED; // not UTF-8: bytes of it were changed
  }
}

/** A filled-in statement that is not text a signer could have written (it was edited). */
export const MALFORMED = Symbol('malformed statement');

/** The stencil image of a note's QR code: a dark module is a 0 bit (painted), the rest 1. */
export function qrImageOf(note: string): Uint8Array {
  const modules = sealQrModules(utf8Encode(note));
  const image = sealImagePlaceholder();
  // Without a branch on the module: data modules are as good as random, and a mispredicted branch
  // on each was about a third of this function's time under Bun.
  for (let row = 0; row < SEAL_QR_SIZE; row += 1) {
    for (let column = 0; column < SEAL_QR_SIZE; column += 1) {
      const x = column + QUIET_MODULES;
      const at = (row + QUIET_MODULES) * ROW_BYTES + (x >> 3);
      image[at] = image[at]! & ~(modules[row * SEAL_QR_SIZE + column]! << (7 - (x & 7)));
    }
  }
  return image;
}

/**
 * Signs the statement of one copy and fills both blanks: the file as printed. The same copy
 * sealed again gives the same bytes (Ed25519 signatures are deterministic, RFC 8032 §5.1.6), so a
 * repeated request is answered with what was bound the first time.
 */
export function sealCertificatePdf(pdf: Uint8Array, statement: Omit<DocumentStatement, 'contentSha256'>, signer: NoteSigner): Uint8Array {
  if (signer.name !== DOCUMENT_KEY_NAME) throw new AppError('internal', 'document.wrong_key', `documents are signed under ${DOCUMENT_KEY_NAME}`);
  const regions = sealRegions(pdf);
  if (regions === undefined) throw new AppError('internal', 'document.no_blanks', 'the certificate has no blanks for its statement and QR code', statement.serial);
  const note = signNote(formatDocumentStatement({ ...statement, contentSha256: blankedDigest(pdf, regions) }), signer);
  const noteBytes = utf8Encode(note);
  if (noteBytes.length > STATEMENT_BYTES) throw new AppError('internal', 'document.statement_too_long', `the signed statement is ${noteBytes.length} bytes, over ${STATEMENT_BYTES}`, statement.serial);
  const sealed = pdf.slice();
  const padded = new Uint8Array(STATEMENT_BYTES);
  padded.set(noteBytes);
  sealed.set(utf8Encode(hexEncode(padded)), regions.statement.start);
  sealed.set(qrImageOf(note), regions.image.start);
  return sealed;
}

/** Every copy of a certificate sealed, each with its own serial. */
export function sealCertificateCopies(pdfs: Uint8Array[], content: CertificateContent, signer: NoteSigner): Uint8Array[] {
  const issuedOn = jstParts(content.createdAtMs).dateIso;
  return pdfs.map((pdf, index) => {
    const serial = content.serials[index];
    if (serial === undefined) throw new AppError('internal', 'certificate.copies_missing', 'a copy has no serial', content.requestId);
    return sealCertificatePdf(pdf, { serial, municipalityCode: content.municipalityCode, certificateType: content.certificateType, issuedOn }, signer);
  });
}

export type DocumentStatus = 'genuine' | 'void' | 'altered' | 'unknown';

export interface DocumentCheck {
  status: DocumentStatus;
  /** One line on why, for the person holding the paper. */
  reason: string;
  /** What the centre signed, once its signature verified. */
  statement?: DocumentStatement;
}

/**
 * Checks a file against the centre's document key: signed by it, unchanged since, its QR code
 * carrying the same statement. Throws an input error (exit 2) for a file that is not a certificate
 * at all: not a PDF, or without the blanks every certificate is written with.
 */
export function checkSealedDocument(pdf: Uint8Array, verifier: NoteVerifier, file: string): DocumentCheck {
  // Read as bytes: the first five bytes of any file (a photo, an executable) need not be UTF-8.
  if (Buffer.from(pdf.buffer, pdf.byteOffset, Math.min(5, pdf.byteLength)).toString('latin1') !== '%PDF-') throw new AppError('input', 'document.not_pdf', 'not a PDF file', file);
  const regions = sealRegions(pdf);
  if (regions === undefined) throw new AppError('input', 'document.not_certificate', 'not a certificate of this service: it has no signed statement', file);
  const note = carriedNote(pdf, regions);
  if (note === undefined) return { status: 'unknown', reason: 'the statement was never signed: the file did not come from the centre' };
  if (note === MALFORMED) return { status: 'altered', reason: 'the signed statement was changed' };
  let body: string;
  try {
    const signedByThisKey = signatureLines(note).some((line) => line.name === verifier.name && bytesEqual(line.keyId, verifier.keyId));
    if (!signedByThisKey) return { status: 'unknown', reason: "the statement is not signed with this centre's document key" };
    ({ body } = openNote(note, [verifier]));
  } catch {
    return { status: 'altered', reason: "the statement does not verify with the centre's document key" };
  }
  const statement = parseDocumentStatement(body);
  if (statement === undefined) return { status: 'altered', reason: 'the signed text is not a certificate statement' };
  if (blankedDigest(pdf, regions) !== statement.contentSha256) return { status: 'altered', reason: 'the file was changed after the centre signed it', statement };
  if (!bytesEqual(pdf.subarray(regions.image.start, regions.image.end), qrImageOf(note))) {
    return { status: 'altered', reason: 'the QR code does not carry the signed statement', statement };
  }
  return { status: 'genuine', reason: 'signed by the centre and unchanged', statement };
}
