// The two blanks a certificate is written with (drivers/pdf/pdf-recorder.ts) and the centre fills
// in (drivers/pdf/document-seal.ts): a signed statement in the document info, and its QR code as
// a 1-bit stencil image on the first page. Both are of fixed size, so filling them in moves
// nothing else in the file (docs/documents.md).

/**
 * QR version 13 at level M holds 331 bytes, which a statement and its signature line fit in
 * (about 300). The mask is fixed: a decoder reads it from the symbol's format bits, and choosing
 * the best of eight took 1.4 ms of the centre's CPU per copy against 0.16 ms for one with the qrcode
 * package, and the encoder specialised to this one shape (qr-fixed.ts) takes about 0.02 ms.
 */
export const QR_VERSION = 13;
export const QR_LEVEL = 'M' as const;
export const QR_MASK = 0;
export const STATEMENT_BYTES = 331;
/** Modules of the symbol, and two of light margin each side (the white box around it adds more). */
const QR_MODULES = 4 * QR_VERSION + 17;
export const QUIET_MODULES = 2;
export const SEAL_IMAGE_SIZE = QR_MODULES + 2 * QUIET_MODULES;
export const ROW_BYTES = Math.ceil(SEAL_IMAGE_SIZE / 8);
export const SEAL_IMAGE_BYTES = ROW_BYTES * SEAL_IMAGE_SIZE;

/** The image's name in the page resources, and the marker in its dictionary. */
export const SEAL_IMAGE_NAME = 'CvsIssueSeal';
export const STATEMENT_MARKER = '/CvsIssueStatement <';
export const IMAGE_MARKER = `/Name /${SEAL_IMAGE_NAME} `;

/** The statement blank as the writer puts it in the document info: NUL bytes, in hex. */
export function statementPlaceholder(): string {
  return `${STATEMENT_MARKER}${'0'.repeat(2 * STATEMENT_BYTES)}>`;
}

/** The stencil image's dictionary entries; its data is SEAL_IMAGE_BYTES of blank (every bit 1 paints nothing). */
export function sealImageEntries(): string {
  return `/Type /XObject /Subtype /Image /Name /${SEAL_IMAGE_NAME} /Width ${SEAL_IMAGE_SIZE} /Height ${SEAL_IMAGE_SIZE} /ImageMask true /BitsPerComponent 1`;
}

export function sealImagePlaceholder(): Uint8Array {
  return new Uint8Array(SEAL_IMAGE_BYTES).fill(0xff);
}
