// What every PDF of ours shares: the Japanese font as the only font, fixed dates so the same input
// gives the same bytes, and the stream collected into one Uint8Array.

import { AppError } from '../../core/errors.ts';
import { loadJapaneseFace, type FontFace } from './font-face.ts';

export interface PageSetup {
  /** Width and height in points (1/72 inch). */
  sizePoints: [number, number];
  title: string;
  createdAtMs: number;
}

export const pointsPerMillimetre = 72 / 25.4;

/** A document whose default font is Noto Serif JP and whose margins are 0: callers place everything. */
export async function openDocument(setup: PageSetup): Promise<PDFKit.PDFDocument> {
  // pdfkit is imported when the first document is made: loading it costs ~45 ms, which commands
  // that print nothing (and every --help) should not pay.
  const [{ default: PDFDocument }, face] = await Promise.all([import('pdfkit'), loadJapaneseFace()]);
  const createdAt = new Date(setup.createdAtMs);
  if (Number.isNaN(createdAt.getTime())) {
    throw new AppError('internal', 'pdf.bad_date', 'createdAtMs is not a valid time');
  }
  const options: Omit<PDFKit.PDFDocumentOptions, 'font'> & { font: FontFace } = {
    size: setup.sizePoints,
    margin: 0,
    // pdfkit's default Helvetica cannot be resolved inside the Bun binary, so the font is given here:
    // the face parsed once per process (font-face.ts), of which each document embeds its own subset.
    font: face,
    bufferPages: true,
    lang: 'ja-JP',
    displayTitle: true,
    // The file ID is derived from this info, so fixed dates make the output byte-identical.
    info: { Title: setup.title, Creator: 'cvs-issue', Producer: 'cvs-issue', CreationDate: createdAt, ModDate: createdAt },
  };
  // @types/pdfkit declares `font` as a path only; pdfkit itself takes bytes or a fontkit face.
  return new PDFDocument(options as unknown as PDFKit.PDFDocumentOptions);
}

/** Ends the document and returns the whole file. */
export function finishDocument(pdf: PDFKit.PDFDocument): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    pdf.on('data', (chunk: Uint8Array) => chunks.push(chunk));
    pdf.on('error', reject);
    pdf.on('end', () => resolve(concatenate(chunks)));
    pdf.end();
  });
}

function concatenate(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}
