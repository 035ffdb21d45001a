// The 領収書 the kiosk prints after taking the fee: an 80 mm wide slip like a till receipt.

import { AppError } from '../../core/errors.ts';
import type { Receipt } from '../../core/kiosk-transaction.ts';
import { finishDocument, openDocument, pointsPerMillimetre } from './pdf-document.ts';

export type { Receipt };

type Pdf = PDFKit.PDFDocument;

const pageWidth = 80 * pointsPerMillimetre;
const pageHeight = 120 * pointsPerMillimetre;
const marginX = 14;
const contentWidth = pageWidth - 2 * marginX;
const textColour = '#111111';

export async function renderReceiptPdf(receipt: Receipt): Promise<Uint8Array> {
  checkAmounts(receipt);
  const pdf = await openDocument({
    sizePoints: [pageWidth, pageHeight],
    title: '領収書',
    createdAtMs: receipt.createdAtMs,
  });
  pdf.fillColor(textColour).strokeColor(textColour);
  pdf.fontSize(18).lineWidth(0.5);
  pdf.text('領収書', marginX, 22, { width: contentWidth, align: 'center', characterSpacing: 6, fill: true, stroke: true });
  pdf.fontSize(8.5).text(receipt.issuedAtText, marginX, 50, { width: contentWidth, align: 'center' });
  let y = 72;
  pdf.fontSize(16).text(formatYen(receipt.feeYen), marginX, y, { width: contentWidth, align: 'center' });
  y = pdf.y + 2;
  rule(pdf, y, 0.8);
  y = drawLines(pdf, y + 8, [
    ['但し', `${receipt.certificateTitle}交付手数料`],
    [`${formatYen(receipt.unitFeeYen)} × ${receipt.copies}通`, ''],
  ]);
  rule(pdf, y + 2, 0.4);
  y = drawLines(pdf, y + 8, [
    ['合計', formatYenSuffix(receipt.feeYen)],
    ['お預り', formatYenSuffix(receipt.paidYen)],
    ['お釣り', formatYenSuffix(receipt.changeYen)],
  ]);
  rule(pdf, y + 2, 0.4);
  pdf.fontSize(8.5).text('上記正に領収いたしました。', marginX, y + 10, { width: contentWidth });
  y = drawLines(pdf, pdf.y + 8, [
    ['発行者', receipt.municipalityName],
    ['取扱店', receipt.storeName],
    ['店舗番号', receipt.storeId],
    ['端末番号', receipt.kioskId],
    ['交付番号', receipt.requestId],
  ]);
  return finishDocument(pdf);
}

const LINE_FONT_SIZE = 9;
/** No value is printed smaller than this to make it fit its line. */
const SMALLEST_VALUE_FONT_SIZE = 6;

/**
 * Label on the left, value on the right, each value on one line: a long one (the 32-character
 * 交付番号) is set smaller until it fits, so it is never broken where a person copying it would
 * misread it. Returns the y below the last line.
 */
function drawLines(pdf: Pdf, top: number, lines: Array<[string, string]>): number {
  let y = top;
  for (const [label, value] of lines) {
    pdf.fontSize(LINE_FONT_SIZE);
    const labelWidth = value === '' ? contentWidth : contentWidth * 0.3;
    pdf.text(label, marginX, y, { width: labelWidth });
    let bottom = pdf.y;
    if (value !== '') {
      const valueWidth = contentWidth - labelWidth;
      const fullWidth = pdf.widthOfString(value);
      const size = Math.max(SMALLEST_VALUE_FONT_SIZE, Math.min(LINE_FONT_SIZE, (LINE_FONT_SIZE * valueWidth) / fullWidth));
      pdf.fontSize(size);
      if (pdf.widthOfString(value) <= valueWidth) {
        // Right-aligned by hand (one line, no wrapping), on the label's baseline.
        pdf.text(value, marginX + contentWidth - pdf.widthOfString(value), y + (LINE_FONT_SIZE - size) * 0.8, { lineBreak: false });
        bottom = Math.max(bottom, y + pdf.currentLineHeight());
      } else {
        // Too long even at the smallest size (a very long store name): wrapped, never cut off.
        pdf.text(value, marginX + labelWidth, y, { width: valueWidth, align: 'right' });
        bottom = Math.max(bottom, pdf.y);
      }
    }
    y = bottom + 3;
  }
  return y;
}

function rule(pdf: Pdf, y: number, width: number): void {
  pdf.lineWidth(width).moveTo(marginX, y).lineTo(marginX + contentWidth, y).stroke();
}

/** ¥1,200 */
export function formatYen(amountYen: number): string {
  return `¥${groupThousands(amountYen)}`;
}

/** 1,200円 */
export function formatYenSuffix(amountYen: number): string {
  return `${groupThousands(amountYen)}円`;
}

// Written out rather than Intl so the figures cannot depend on the runtime's ICU data.
function groupThousands(amountYen: number): string {
  return String(amountYen).replace(/\B(?=(\d{3})+$)/g, ',');
}

function checkAmounts(receipt: Receipt): void {
  const amounts = {
    copies: receipt.copies,
    unitFeeYen: receipt.unitFeeYen,
    feeYen: receipt.feeYen,
    paidYen: receipt.paidYen,
    changeYen: receipt.changeYen,
  };
  for (const [name, amount] of Object.entries(amounts)) {
    if (!Number.isSafeInteger(amount) || amount < 0) {
      throw new AppError('internal', 'pdf.bad_amount', `receipt ${name} must be a whole number ≥ 0`, receipt.requestId);
    }
  }
}
