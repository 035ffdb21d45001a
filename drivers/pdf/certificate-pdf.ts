// Certificates (住民票の写し, 印鑑登録証明書 …) and the 「返金済・無効」 slip printed after a misprint,
// as A4 PDFs. Everything is drawn at fixed positions with one font, so the same input gives the
// same bytes on Node and in the Bun binary.

import { deflateSync } from 'node:zlib';
import { AppError } from '../../core/errors.ts';
import type { VoidSlip } from '../../core/kiosk-transaction.ts';
import type { CertificateContent, CertificateField } from '../../core/resident.ts';
import { loadJapaneseFace } from './font-face.ts';
import { finishDocument, openDocument } from './pdf-document.ts';
import { drawOneLine, oneLineHeight, writeLine, type OneLineBox } from './one-line-text.ts';
import { fillColour, filledWith, lineOperators, rectOperator, RgbColour, setOpacity, strokeColour } from './drawing-operators.ts';
import { SEAL_IMAGE_NAME, SEAL_IMAGE_SIZE } from './seal-blanks.ts';
import { recordPdfCopies, type FixedText, type RecordedForm, type Recording } from './pdf-recorder.ts';

/** What a certificate says (core/resident.ts builds it); this file only draws it. */
export type CertificateDocument = CertificateContent;
export type { CertificateField };

/** The 「返金済・無効」 slip (core/kiosk-transaction.ts): every serial of the voided transaction. */
export type VoidNotice = VoidSlip;

type Pdf = PDFKit.PDFDocument;

const pageWidth = 595.28;
const pageHeight = 841.89;
const marginX = 60;
const contentWidth = pageWidth - 2 * marginX;
const tableTop = 150;
/** Rows must end above this so the certification, date and seal fit on the last page. */
const tableBottom = 790;
const closingHeight = 190;
const labelWidth = 100;
const cellPadding = 7;
const minimumRowHeight = 28;
const textColour = '#111111';
const sealColour = '#c8161d';
const patternColour = '#cfdcea';
// The colours drawn on every certificate, as the operators pdfkit writes for them (drawing-operators.ts).
const TEXT = new RgbColour(textColour);
const SEAL = new RgbColour(sealColour);
const WHITE = new RgbColour('#ffffff');
const BLACK = new RgbColour('#000000');
const LABEL_SHADE = new RgbColour('#f1f4f8');
const labelShadeOpacity = 0.9;
const FOOTER = new RgbColour('#444444');

/** How certificates are made: from the recorded template (the default) or by pdfkit's own document. */
export type CertificateRenderer = 'template' | 'pdfkit';

/**
 * The certificate as A4 PDFs, one per copy (document.serials), each showing its serial and n/N on
 * every page (C§9). By default the operators are recorded from this thread's layout document and
 * the files written around them (drivers/pdf/pdf-recorder.ts): the certificate is laid out once and
 * each copy adds only its marks, without pdfkit opening, embedding and serialising a document per
 * certificate. `pdfkit` renders each copy as a pdfkit document of its own, the reference the
 * template is tested against (test/drivers/pdf/certificate-template.test.ts).
 */
export async function renderCertificatePdf(document: CertificateDocument, renderer: CertificateRenderer = 'template'): Promise<Uint8Array[]> {
  if (document.serials.length < 1) throw new AppError('internal', 'pdf.no_copies', 'a certificate needs at least one copy', document.requestId);
  const setup = { sizePoints: [pageWidth, pageHeight] as [number, number], title: document.title, createdAtMs: document.createdAtMs };
  const pattern = await securityPattern();
  if (renderer === 'template') {
    return recordPdfCopies(
      setup,
      [pattern],
      {
        shared: (recording) => drawCertificate(recording.pdf, document, templatePages(recording)),
        copy: (recording, index) => drawCopyMarks(recording.pdf, document, index, templatePages(recording)),
        count: document.serials.length,
      },
      fixedTextOf(document),
      { sealed: true },
    );
  }
  const copies: Uint8Array[] = [];
  for (let index = 0; index < document.serials.length; index += 1) {
    const pdf = await openDocument(setup);
    const patternForm = securityPatternForm(pdf, pattern);
    placeForm(pdf, patternForm);
    const pages: Pages = {
      fixedText: (text, x, y, options) => void pdf.text(text, x, y, options),
      addPage: () => addPatternedPage(pdf, patternForm),
      get pageCount() {
        return pdf.bufferedPageRange().count;
      },
      switchToPage: (page) => pdf.switchToPage(pdf.bufferedPageRange().start + page),
      oneLineValues: false,
      sealed: false,
    };
    drawCertificate(pdf, document, pages);
    drawCopyMarks(pdf, document, index, pages);
    copies.push(await finishDocument(pdf));
  }
  return copies;
}

/**
 * What every certificate of this type from this municipality prints whoever it is for: the
 * template's text (drivers/pdf/pdf-recorder.ts), with the characters that every issue date,
 * request, serial and page number is made of.
 */
function fixedTextOf(document: CertificateDocument): FixedText {
  const texts = [document.title, ...(document.optionsText === undefined ? [] : [document.optionsText]), ...document.fields.map((field) => field.label), document.certifiedText, document.municipalityName, `${document.municipalityName}之印`, '交付番号　端末番号 ／', '証明書番号（/通）', '令和年月日0123456789abcdef-'];
  return { key: texts.join('\u0001'), texts };
}

/** A recording's pages, whose values of one line skip pdfkit's line wrapper. */
function templatePages(recording: Recording): Pages {
  return {
    get pageCount() {
      return recording.pageCount;
    },
    addPage: () => recording.addPage(),
    switchToPage: (index) => recording.switchToPage(index),
    fixedText: (text, x, y, options) => recording.fixedText(text, x, y, options),
    oneLineValues: true,
    sealed: true,
  };
}

/** The pages of a certificate being drawn: each new one carries the security pattern. */
interface Pages {
  readonly pageCount: number;
  addPage(): void;
  switchToPage(index: number): void;
  /** pdf.text for the layout's fixed text (fixedTextOf), which the template lays out once (pdf-recorder.ts). */
  fixedText(text: string, x: number, y: number, options?: PDFKit.Mixins.TextOptions): void;
  /**
   * Whether values that are one line skip pdfkit's line wrapper, and runs (drawRuns) its text
   * options, both written by one-line-text.ts; the pdfkit reference keeps pdfkit's own.
   */
  readonly oneLineValues: boolean;
  /** Whether the file has the blank QR code to place (drivers/pdf/seal-blanks.ts); the pdfkit reference has none. */
  readonly sealed: boolean;
}

function drawCertificate(pdf: Pdf, document: CertificateDocument, pages: Pages): void {
  drawSealBox(pdf, pages);
  drawTitle(pdf, document.title, pages);
  if (document.optionsText !== undefined) drawOptions(pdf, document.optionsText, pages);
  let y = drawFieldTable(pdf, document.fields, pages);
  if (y + closingHeight > tableBottom) {
    pages.addPage();
    y = tableTop;
  }
  drawClosing(pdf, document, y, pages);
  drawFooters(pdf, document, pages);
}

export async function renderVoidNoticePdf(options: VoidNotice): Promise<Uint8Array> {
  if (options.serials.length < 1) {
    throw new AppError('internal', 'pdf.bad_amount', 'a void notice lists at least one serial', options.requestId);
  }
  const pdf = await openDocument({
    sizePoints: [pageWidth, pageHeight],
    title: '返金済・無効',
    createdAtMs: options.createdAtMs,
  });
  pdf.fillColor(sealColour).fontSize(44);
  pdf.text('返金済・無効', marginX, 150, { width: contentWidth, align: 'center', characterSpacing: 6 });
  pdf.lineWidth(3).strokeColor(sealColour).rect(marginX + 60, 130, contentWidth - 120, 90).stroke();
  pdf.fillColor(textColour).fontSize(13);
  const lines = [
    '印刷不良等のため、この交付は取り消されました。',
    '手数料は返金済みです。',
    'この用紙及び次の証明書番号の証明書はすべて無効です。',
    '各証明書に「返金済・無効」と押印してください。',
    '',
    `交付番号　${options.requestId}`,
    `端末番号　${options.kioskId}`,
    `無効とした部数　${options.serials.length}部`,
    '無効とした証明書番号',
    ...options.serials.map((serial, index) => `　${serial}（${index + 1}/${options.serials.length}通）`),
  ];
  pdf.text(lines.join('\n'), marginX + 20, 270, { width: contentWidth - 40, lineGap: 6 });
  return finishDocument(pdf);
}

function addPatternedPage(pdf: Pdf, pattern: PDFKit.PDFKitReference): void {
  pdf.addPage({ size: [pageWidth, pageHeight], margin: 0 });
  placeForm(pdf, pattern);
}

const patternName = 'SecurityPattern';
// The waves run past the page edge, as they did drawn on the page itself: the box clips nothing.
const patternBleed = 50;
const patternBox: [number, number, number, number] = [-patternBleed, -patternBleed, pageWidth + patternBleed, pageHeight + patternBleed];
const waveName = 'SecurityWave';
const waveLength = 36;
const waveAmplitude = 5;
const waveSpacing = 9;
/** A row's curves reach 1.27 amplitudes either side of the baseline, and one half-wave past the page. */
const waveBox: [number, number, number, number] = [-1, -8, pageWidth + waveLength, 8];

let cachedPattern: Promise<RecordedForm> | undefined;

/**
 * The security pattern as a form XObject, its operators as pdfkit writes them, deflated, once per
 * process (per worker thread): drawing its curves and deflating them again for each certificate was
 * a fifth of a certificate's CPU (bench/issuance.bench.ts). Every row of waves is the same curve,
 * so one row is a form of its own that the pattern places at each baseline, upright and mirrored:
 * 2 × 95 rows of 34 curves were 60 KB of every certificate, base64-encoded on the wire (issue 10);
 * the same strokes placed this way are a few KB.
 */
function securityPattern(): Promise<RecordedForm> {
  cachedPattern ??= (async () => {
    const wave = await recordOperators((scratch) => addWave(scratch, 0, waveLength, waveAmplitude));
    const latent = await recordOperators(async () => undefined, copyEvidentOperators(await latentWordOutline()));
    const pattern = await recordOperators((scratch) => drawSecurityPattern(scratch));
    const waveForm: RecordedForm = { name: waveName, boundingBox: waveBox, deflatedOperators: wave };
    const latentForm: RecordedForm = { name: copyEvidentName, boundingBox: copyEvidentBox.bounds, deflatedOperators: latent };
    return { name: patternName, boundingBox: patternBox, deflatedOperators: pattern, forms: [waveForm, latentForm] };
  })().catch((error: unknown) => {
    cachedPattern = undefined;
    throw error;
  });
  return cachedPattern;
}

/** What `draw` writes on a scratch pdfkit page (after `given`), as one deflated content stream. */
async function recordOperators(draw: (scratch: Pdf) => void, given: string[] = []): Promise<Uint8Array> {
  const scratch = await openDocument({ sizePoints: [pageWidth, pageHeight], title: '', createdAtMs: 0 });
  const operators: string[] = [...given];
  scratch.addContent = (data: string) => {
    operators.push(data);
    return scratch;
  };
  draw(scratch);
  // pdfkit ends each operator with a newline (PDFReference.write); so does the form.
  return new Uint8Array(deflateSync(Buffer.from(`${operators.join('\n')}\n`, 'latin1')));
}

/** The pattern as form XObjects of this document (one per document, placed on every page). */
function securityPatternForm(pdf: Pdf, recorded: RecordedForm): PDFKit.PDFKitReference {
  const XObject: Record<string, PDFKit.PDFKitReference> = {};
  for (const inner of recorded.forms ?? []) XObject[inner.name] = securityPatternForm(pdf, inner);
  const resources = Object.keys(XObject).length > 0 ? { Resources: { XObject } } : {};
  const form = pdf.ref({ Type: 'XObject', Subtype: 'Form', BBox: recorded.boundingBox, ...resources, Filter: 'FlateDecode' });
  form.end(Buffer.from(recorded.deflatedOperators));
  return form;
}

/** Draws a form XObject over the whole page, in the page's own coordinates (pdfkit's top-left origin). */
function placeForm(pdf: Pdf, form: PDFKit.PDFKitReference): void {
  const page = pdf.page as unknown as { xobjects: Record<string, PDFKit.PDFKitReference> };
  page.xobjects[patternName] = form;
  pdf.addContent(`/${patternName} Do`);
}

/**
 * Fine interlaced waves in a pale colour, like the guilloché of real certificate paper: they make a
 * photocopy look different from the original while staying out of the way of the text. Each row
 * is the one form of Bézier half-waves (addWave), placed upright and mirrored at its baseline.
 */
function drawSecurityPattern(pdf: Pdf): void {
  // Under the waves: the hidden 「複写」 paints over nothing of the pattern.
  pdf.addContent(`/${copyEvidentName} Do`);
  pdf.save().lineWidth(0.3).strokeColor(patternColour);
  for (let baseline = -waveAmplitude; baseline < pageHeight + waveAmplitude; baseline += waveSpacing) {
    // The row's form, at this baseline and mirrored about it (the wave of opposite phase).
    pdf.addContent(`q 1 0 0 1 0 ${baseline} cm /${waveName} Do Q`);
    pdf.addContent(`q 1 0 0 -1 0 ${baseline} cm /${waveName} Do Q`);
  }
  pdf.lineWidth(1.2).rect(24, 24, pageWidth - 48, pageHeight - 48).stroke();
  pdf.lineWidth(0.4).rect(29, 29, pageWidth - 58, pageHeight - 58).stroke();
  pdf.restore();
}

/**
 * 「複写」 hidden in the background, for a photocopy to show (docs/documents.md, "Copy-evident
 * background"), as void pantographs do on security paper: a box of hatching whose tone is the same
 * everywhere, fine lines around the word and coarse lines in its strokes. The eye averages both to
 * one pale tint; a copier, which cannot resolve the fine lines, drops them and keeps the coarse
 * ones, so the word stands out on the copy. The word is drawn from the glyph outlines as a clip
 * path, so the form needs no font of its own; the fine lines under it are painted out first.
 */
const copyEvidentName = 'CopyEvident';
const copyEvidentWord = '複写';
const copyEvidentSize = 150;
const copyEvidentBox = (() => {
  const width = copyEvidentWord.length * copyEvidentSize + 40;
  const height = copyEvidentSize + 40;
  const x = (pageWidth - width) / 2;
  const y = 330;
  return { x, y, width, height, bounds: [x, y, x + width, y + height] as [number, number, number, number] };
})();
/** Line width and pitch (points) of each hatching: both cover a quarter of the box. */
export const COPY_EVIDENT_HATCHING = { fine: { width: 0.25, pitch: 1 }, coarse: { width: 0.75, pitch: 3 } };

/** The word's outline as PDF path operators in page coordinates (y downwards), quadratic curves raised to cubic. */
export async function latentWordOutline(): Promise<string[]> {
  const face = (await loadJapaneseFace()) as unknown as { unitsPerEm: number; layout(text: string): { glyphs: { advanceWidth: number; path: { commands: { command: string; args: number[] }[] } }[] } };
  const scale = copyEvidentSize / face.unitsPerEm;
  const baseline = copyEvidentBox.y + 20 + copyEvidentSize * 0.88;
  const operators: string[] = [];
  let originX = copyEvidentBox.x + 20;
  const at = (x: number, y: number) => `${pdfNumber(originX + x * scale)} ${pdfNumber(baseline - y * scale)}`;
  for (const glyph of face.layout(copyEvidentWord).glyphs) {
    let current = [0, 0];
    for (const { command, args } of glyph.path.commands) {
      if (command === 'moveTo' || command === 'lineTo') {
        operators.push(`${at(args[0]!, args[1]!)} ${command === 'moveTo' ? 'm' : 'l'}`);
        current = [args[0]!, args[1]!];
      } else if (command === 'quadraticCurveTo') {
        const [qx, qy, x, y] = args as [number, number, number, number];
        const [px, py] = current as [number, number];
        operators.push(`${at(px + (2 / 3) * (qx - px), py + (2 / 3) * (qy - py))} ${at(x + (2 / 3) * (qx - x), y + (2 / 3) * (qy - y))} ${at(x, y)} c`);
        current = [x, y];
      } else if (command === 'bezierCurveTo') {
        operators.push(`${at(args[0]!, args[1]!)} ${at(args[2]!, args[3]!)} ${at(args[4]!, args[5]!)} c`);
        current = [args[4]!, args[5]!];
      } else if (command === 'closePath') {
        operators.push('h');
      }
    }
    originX += glyph.advanceWidth * scale;
  }
  return operators;
}

/**
 * Lines of the hatching as thin filled rectangles, not strokes: viewers widen a stroke to at least
 * one device pixel, which on a screen would fill the fine hatching in and show the word; a fill
 * covers only its area, so the tone on screen is the tone on paper.
 */
function hatching(width: number, pitch: number): string[] {
  const { x, y, width: boxWidth, height } = copyEvidentBox;
  const lines: string[] = [];
  for (let lineY = y + (pitch - width) / 2; lineY < y + height; lineY += pitch) lines.push(`${pdfNumber(x)} ${pdfNumber(lineY)} ${pdfNumber(boxWidth)} ${width} re`);
  lines.push('f');
  return lines;
}

function copyEvidentOperators(outline: string[]): string[] {
  const { x, y, width, height } = copyEvidentBox;
  const { fine, coarse } = COPY_EVIDENT_HATCHING;
  const colour = '0.67 0.74 0.82 rg';
  return [
    'q', colour, ...hatching(fine.width, fine.pitch), 'Q',
    'q', ...outline, 'W n', '1 g', `${pdfNumber(x)} ${pdfNumber(y)} ${pdfNumber(width)} ${pdfNumber(height)} re f`, colour, ...hatching(coarse.width, coarse.pitch), 'Q',
  ];
}

function pdfNumber(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** The box the hidden word lies in, in page points (x, y from the top left, width, height). */
export function copyEvidentArea(): { x: number; y: number; width: number; height: number } {
  const { x, y, width, height } = copyEvidentBox;
  return { x, y, width, height };
}

/** One row of waves, stroked: the form the pattern places at every baseline. */
function addWave(pdf: Pdf, baseline: number, wavelength: number, amplitude: number): void {
  const half = wavelength / 2;
  // Control points at 0.3642 of a half-wave give a close cubic fit of a sine arch.
  const control = half * 0.3642;
  pdf.moveTo(0, baseline);
  let sign = 1;
  for (let x = 0; x < pageWidth; x += half) {
    const peak = baseline - 1.27 * amplitude * sign;
    pdf.bezierCurveTo(x + control, peak, x + half - control, peak, x + half, baseline);
    sign = -sign;
  }
  pdf.stroke();
}

/** Top left of the first page, clear of the title (centred) and the copy marks (right); one point per QR module (0.35 mm). */
const sealBox = { x: marginX, y: 42, size: SEAL_IMAGE_SIZE + 6, margin: 3 };

/**
 * A white square on the pattern, and in it the QR code of the copy's signed statement
 * (docs/documents.md): a stencil image that paints its dark modules and leaves the rest white.
 * Until the centre fills it in, it paints nothing.
 */
function drawSealBox(pdf: Pdf, pages: Pages): void {
  const { x, y, size, margin } = sealBox;
  pdf.save();
  fillColour(pdf, WHITE);
  pdf.rect(x, y, size, size).fill().restore();
  if (!pages.sealed) return;
  const inner = size - 2 * margin;
  // The page is drawn with y downwards (1 0 0 -1 0 H cm): the image's top row goes at the top.
  pdf.save();
  fillColour(pdf, BLACK);
  pdf.addContent(`${inner} 0 0 ${-inner} ${x + margin} ${y + margin + inner} cm /${SEAL_IMAGE_NAME} Do`);
  pdf.restore();
}

function drawTitle(pdf: Pdf, title: string, pages: Pages): void {
  fillColour(pdf, TEXT);
  strokeColour(pdf, TEXT);
  pdf.lineWidth(0.6).fontSize(28);
  // One font weight is embedded (each weight adds ~7.7 MB to the binary); stroking the fill
  // thickens the title to a bold look instead.
  pages.fixedText(title, marginX, 70, TITLE_OPTIONS);
}

// Options of the fixed texts are frozen constants: the template keeps the key of a frozen
// options object (pdf-recorder.ts fixedText) instead of writing it out for every text.
const TITLE_OPTIONS = Object.freeze({ width: contentWidth, align: 'center', characterSpacing: 8, fill: true, stroke: true });
const OPTIONS_TEXT_OPTIONS = Object.freeze({ width: contentWidth, align: 'center', lineBreak: false });

/** The options the certificate was made with (世帯全員／本籍・筆頭者 記載 …), centred under the title. */
function drawOptions(pdf: Pdf, text: string, pages: Pages): void {
  fillColour(pdf, TEXT);
  pdf.fontSize(10);
  pages.fixedText(text, marginX, 116, OPTIONS_TEXT_OPTIONS);
}

/** Draws the bordered label/value table, continuing on new pages if needed; returns the y below it. */
function drawFieldTable(pdf: Pdf, fields: CertificateField[], pages: Pages): number {
  const valueBox: OneLineBox = { width: contentWidth - labelWidth - 2 * cellPadding, lineGap: 2 };
  let y = tableTop;
  pdf.fontSize(11.5);
  for (const field of fields) {
    const oneLine = pages.oneLineValues ? oneLineHeight(pdf, field.value, valueBox) : undefined;
    const valueHeight = oneLine ?? pdf.heightOfString(field.value, valueBox);
    const labelHeight = labelHeightOf(pdf, field.label);
    const rowHeight = Math.max(minimumRowHeight, Math.max(valueHeight, labelHeight) + 2 * cellPadding);
    if (y + rowHeight > tableBottom) {
      closeTable(pdf, y);
      pages.addPage();
      y = tableTop;
    }
    drawRow(pdf, field, y, rowHeight, valueBox, oneLine !== undefined, pages);
    y += rowHeight;
  }
  closeTable(pdf, y);
  return y;
}

function drawRow(pdf: Pdf, field: CertificateField, y: number, rowHeight: number, valueBox: OneLineBox, oneLine: boolean, pages: Pages): void {
  // pdf.save().fillColor('#f1f4f8', 0.9).rect(marginX, y, labelWidth, rowHeight).fill().restore(),
  // lineWidth(0.7).strokeColor(textColour), the row's box and the line after the label stroked,
  // and fillColor(textColour), written as pdfkit writes them (drawing-operators.ts): pdfkit's
  // calls were about a fifth of a row's samples in a CPU profile under Bun. Nothing between q and
  // Q transforms, so pdfkit's matrix stack, which its save and restore keep, is the same without.
  pdf.addContent(`q\n${LABEL_SHADE.fill}`);
  setOpacity(pdf, labelShadeOpacity, false);
  const box = rectOperator(marginX, y, contentWidth, rowHeight);
  const divider = lineOperators(marginX + labelWidth, y, marginX + labelWidth, y + rowHeight);
  pdf.addContent(`${rectOperator(marginX, y, labelWidth, rowHeight)}\nf\nQ\n0.7 w\n${TEXT.stroke}\n${box}\nS\n${divider}\nS\n${TEXT.fill}`);
  filledWith(pdf, TEXT);
  pdf.fontSize(11.5);
  const options = labelOptions(field.label);
  const labelY = y + (rowHeight - labelHeightOf(pdf, field.label)) / 2;
  pages.fixedText(field.label, marginX + options.characterSpacing, labelY, options);
  const valueX = marginX + labelWidth + cellPadding;
  if (oneLine) drawOneLine(pdf, field.value, valueX, y + cellPadding, valueBox);
  else pdf.text(field.value, valueX, y + cellPadding, { ...valueBox });
}

/** Labels are the fixed words of the forms (a few dozen), so their heights are kept. */
const LABEL_HEIGHT_LIMIT = 1_024;
const labelHeights = new Map<string, number>();

/** The label's height at the table's 11.5 pt, as pdfkit measures it; wrapping it again for each row of each certificate was needless. */
function labelHeightOf(pdf: Pdf, label: string): number {
  let height = labelHeights.get(label);
  if (height === undefined) {
    pdf.fontSize(11.5);
    height = pdf.heightOfString(label, labelOptions(label));
    if (labelHeights.size >= LABEL_HEIGHT_LIMIT) labelHeights.clear();
    labelHeights.set(label, height);
  }
  return height;
}

/**
 * Short labels (氏名, 住所) are spread out as on printed forms; long ones are set solid. pdfkit
 * counts the spacing after the last character too, hence the narrower box shifted right.
 */
function labelOptions(label: string): PDFKit.Mixins.TextOptions & { characterSpacing: number } {
  return Array.from(label).length <= 4 ? SPREAD_LABEL_OPTIONS : SOLID_LABEL_OPTIONS;
}

/** Frozen, so the template keeps their key (pdf-recorder.ts fixedText). */
const labelOptionsOf = (characterSpacing: number) => Object.freeze({ width: labelWidth - 2 * characterSpacing, align: 'center', characterSpacing, lineGap: 2 });
const SPREAD_LABEL_OPTIONS = labelOptionsOf(4);
const SOLID_LABEL_OPTIONS = labelOptionsOf(0);

/** A heavier outer line around the table, as on printed certificates. */
function closeTable(pdf: Pdf, bottom: number): void {
  pdf.lineWidth(1.4);
  strokeColour(pdf, TEXT);
  pdf.moveTo(marginX, bottom).lineTo(marginX + contentWidth, bottom).stroke();
}

const CERTIFIED_OPTIONS = Object.freeze({ width: contentWidth - 24, lineGap: 3 });
const ONE_LINE_OPTIONS = Object.freeze({ lineBreak: false });
/** The municipality's seal, right of its name. */
const mayorSealSize = 64;
const mayorSealX = marginX + contentWidth - mayorSealSize - 6;
const MAYOR_OPTIONS = Object.freeze({ width: mayorSealX - marginX - 24, align: 'right', characterSpacing: 6, fill: true, stroke: true });
const SEAL_CHARACTER_OPTIONS = Object.freeze({ lineBreak: false, fill: true, stroke: true });

function drawClosing(pdf: Pdf, document: CertificateDocument, top: number, pages: Pages): void {
  fillColour(pdf, TEXT);
  pdf.fontSize(12);
  pages.fixedText(document.certifiedText, marginX + 12, top + 28, CERTIFIED_OPTIONS);
  // The date is the same for every certificate of the day; its glyphs are of the fixed text.
  pages.fixedText(document.issuedOnText, marginX + 12, pdf.y + 18, ONE_LINE_OPTIONS);
  const mayorY = pdf.y + 36;
  pdf.fontSize(17).lineWidth(0.3);
  pages.fixedText(document.municipalityName, marginX, mayorY, MAYOR_OPTIONS);
  drawSeal(pdf, `${document.municipalityName}之印`, mayorSealX, mayorY - (mayorSealSize - 17) / 2 - 4, mayorSealSize, pages);
}

/**
 * A square official seal: a red double frame with the characters in vertical columns read right to
 * left, each column stretched to the full height, as 角印 are carved.
 */
function drawSeal(pdf: Pdf, text: string, x: number, y: number, size: number, pages: Pages): void {
  const characters = Array.from(text);
  const columnCount = Math.max(1, Math.ceil(Math.sqrt(characters.length)));
  const columns = splitIntoColumns(characters, columnCount);
  const inset = 6;
  const columnWidth = (size - 2 * inset) / columnCount;
  pdf.save();
  setOpacity(pdf, 0.88, false);
  setOpacity(pdf, 0.88, true);
  strokeColour(pdf, SEAL);
  fillColour(pdf, SEAL);
  pdf.lineWidth(2.4).rect(x, y, size, size).stroke();
  pdf.lineWidth(0.6).rect(x + 3, y + 3, size - 6, size - 6).stroke();
  // Carved seals have thick strokes; outlining the regular glyphs thickens them.
  pdf.lineWidth(0.5);
  columns.forEach((column, index) => {
    const cellHeight = (size - 2 * inset) / column.length;
    const fontSize = Math.min(columnWidth, cellHeight) * 0.92;
    const columnX = x + size - inset - (index + 1) * columnWidth;
    pdf.fontSize(fontSize);
    column.forEach((character, row) => {
      const cellY = y + inset + row * cellHeight + (cellHeight - fontSize) / 2 - fontSize * 0.08;
      pages.fixedText(character, columnX + (columnWidth - fontSize) / 2, cellY, SEAL_CHARACTER_OPTIONS);
    });
  });
  pdf.restore();
}

/** Splits characters into columns whose lengths differ by at most one, longer columns first. */
function splitIntoColumns(characters: string[], columnCount: number): string[][] {
  const columns: string[][] = [];
  let start = 0;
  for (let index = 0; index < columnCount; index += 1) {
    const length = Math.ceil((characters.length - start) / (columnCount - index));
    columns.push(characters.slice(start, start + length));
    start += length;
  }
  return columns.filter((column) => column.length > 0);
}

/**
 * The mark as runs pdfkit shapes one by one, so that only the request id is new to the shaping
 * cache (drivers/pdf/font-face.ts), and only once per certificate: the footer shows it as a run
 * of its own too. The label and the copy's part (-1（1/2通）) recur from certificate to certificate.
 */
function copyMarkRuns(document: Pick<CertificateDocument, 'requestId' | 'serials'>, index: number): string[] {
  const serial = document.serials[index]!;
  const shared = serial.startsWith(document.requestId) ? document.requestId : '';
  return ['証明書番号 ', shared, `${serial.slice(shared.length)}（${index + 1}/${document.serials.length}通）`].filter((run) => run !== '');
}

/**
 * Draws runs one after another from x on one line, where one text of them all would be. Each is
 * `pdf.text(run, at, y, { lineBreak: false })`, which for a run without a line break is one line of
 * pdfkit's line writer, leaving pdf.x after the run (its width, measured at this font size) and
 * pdf.y at y; the template writes that line itself (one-line-text.ts writeLine).
 */
function drawRuns(pdf: Pdf, runs: { text: string; width: number }[], x: number, y: number, pages: Pages): void {
  let at = x;
  for (const run of runs) {
    if (pages.oneLineValues && !run.text.includes('\n')) {
      writeLine(pdf, run.text, at, y);
      pdf.x = at + run.width;
      pdf.y = y;
    } else {
      pdf.text(run.text, at, y, { lineBreak: false });
    }
    at += run.width;
  }
}

function measured(pdf: Pdf, texts: string[]): { text: string; width: number }[] {
  return texts.map((text) => ({ text, width: pdf.widthOfString(text) }));
}

/**
 * The copy's serial and n/N at the top right of every page of the copy, above the title: a clerk
 * stamping 「返金済・無効」 after a misprint, and the centre asked about a sheet, read it there.
 * Right-aligned by hand: pdfkit's own alignment runs its line wrapper over the text on every page.
 */
function drawCopyMarks(pdf: Pdf, document: CertificateDocument, index: number, pages: Pages): void {
  pdf.fontSize(9);
  const runs = measured(pdf, copyMarkRuns(document, index));
  const x = marginX + contentWidth - runs.reduce((sum, run) => sum + run.width, 0);
  for (let page = 0; page < pages.pageCount; page += 1) {
    pages.switchToPage(page);
    fillColour(pdf, TEXT);
    pdf.fontSize(9);
    drawRuns(pdf, runs, x, 40, pages);
  }
}

/** The request and kiosk in small type on every page, with the page number when there are several. */
function drawFooters(pdf: Pdf, document: CertificateDocument, pages: Pages): void {
  const count = pages.pageCount;
  for (let index = 0; index < count; index += 1) {
    pages.switchToPage(index);
    const pageText = count > 1 ? `　${index + 1}／${count}` : '';
    fillColour(pdf, FOOTER);
    pdf.fontSize(8);
    // The request id as a run of its own: the rest recurs, and the copy marks shape the id too.
    drawRuns(pdf, measured(pdf, ['交付番号 ', document.requestId, `　端末番号 ${document.kioskId}${pageText}`]), marginX, pageHeight - 52, pages);
  }
}
