// The 請求書 for a month, on A4 in Japanese: the figures a person sends to the operator. The
// document date is the invoice-by date, so the same month always gives the same bytes.

import { invoiceTypeTitle, type Invoice } from '../../core/invoice.ts';
import { finishDocument, openDocument } from './pdf-document.ts';
import { formatYenSuffix } from './receipt-pdf.ts';

type Pdf = PDFKit.PDFDocument;

const pageWidth = 595.28;
const pageHeight = 841.89;
const marginX = 56;
const contentWidth = pageWidth - 2 * marginX;
const bottomLimit = pageHeight - 60;
/** Stores are many; the PDF lists the first ones and the JSON/CSV carry all. */
const STORES_SHOWN = 40;

function japaneseDate(dateIso: string): string {
  const [year, month, day] = dateIso.split('-').map(Number);
  return `${year}年${month}月${day}日`;
}

function japaneseMonth(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number);
  return `${year}年${monthNumber}月分`;
}

export async function renderInvoicePdf(invoice: Invoice, names: { operatorName?: string; municipalityName?: (code: string) => string | undefined } = {}): Promise<Uint8Array> {
  const pdf = await openDocument({
    sizePoints: [pageWidth, pageHeight],
    title: `請求書 ${invoice.invoiceNumber}`,
    createdAtMs: Date.parse(`${invoice.deadlines.invoiceBy}T00:00:00+09:00`),
  });
  pdf.fillColor('#111111').strokeColor('#111111');
  pdf.fontSize(22).text('請求書', marginX, 50, { width: contentWidth, align: 'center', characterSpacing: 8 });
  pdf.fontSize(10);
  pdf.text(`請求番号 ${invoice.invoiceNumber}`, marginX, 90, { width: contentWidth, align: 'right' });
  pdf.text(`発行日 ${japaneseDate(invoice.deadlines.invoiceBy)}`, { width: contentWidth, align: 'right' });
  pdf.fontSize(13).text(`${names.operatorName ?? invoice.parties.billTo.name ?? invoice.operatorId ?? '各事業者'} 御中`, marginX, 90);
  pdf.fontSize(10).text(`請求者 ${invoice.parties.issuer.name}`, marginX, 110);
  pdf.fontSize(10).text(`対象期間 ${japaneseMonth(invoice.month)}（日本時間の交付日による）`, marginX, 130);
  let y = 160;
  pdf.fontSize(14).text(`ご請求金額  ${formatYenSuffix(invoice.amountDueYen)}`, marginX, y);
  y = pdf.y + 6;
  pdf.lineWidth(0.8).moveTo(marginX, y).lineTo(marginX + contentWidth, y).stroke();
  y = rows(pdf, y + 10, [
    ['交付件数', `${invoice.issuances}件`],
    ['交付通数', `${invoice.documents}通`],
    ['証明書交付手数料 合計', formatYenSuffix(invoice.feesYen)],
    [`委託手数料（1通115円・税込）`, `△${formatYenSuffix(invoice.commissionYen)}`],
    ['差引ご請求金額', formatYenSuffix(invoice.amountDueYen)],
  ]);
  y = rows(pdf, y + 10, [
    ['突合期限', japaneseDate(invoice.deadlines.reconcileBy)],
    ['確定期限', japaneseDate(invoice.deadlines.confirmBy)],
    ['請求期限', japaneseDate(invoice.deadlines.invoiceBy)],
    ['お支払期限', japaneseDate(invoice.deadlines.payBy)],
  ]);
  if (invoice.lateInterest) {
    const late = invoice.lateInterest;
    y = rows(pdf, y + 10, [[`遅延利息（${japaneseDate(late.paidOn)}支払、${late.daysLate}日、年${late.ratePercent}%）`, formatYenSuffix(late.interestYen)]]);
  }
  if (invoice.payments) {
    const payments = invoice.payments;
    const lines: Array<[string, string]> = [];
    for (const line of payments.lines) {
      lines.push([`入金（${japaneseDate(line.paidOn)}${line.reference ? `、${line.reference}` : ''}）`, formatYenSuffix(line.amountYen)]);
      if (line.lateInterest) lines.push([`　遅延利息（${line.lateInterest.daysLate}日、年${line.lateInterest.ratePercent}%）`, formatYenSuffix(line.lateInterest.interestYen)]);
    }
    lines.push(['入金額合計', formatYenSuffix(payments.receivedYen)], ['未払残高', formatYenSuffix(payments.balanceYen)]);
    if (payments.balanceInterest) lines.push([`残高の遅延利息（${japaneseDate(payments.balanceInterest.asOf)}現在、${payments.balanceInterest.daysLate}日、年${payments.balanceInterest.ratePercent}%）`, formatYenSuffix(payments.balanceInterest.interestYen)]);
    y = rows(pdf, y + 10, lines);
  }
  if (invoice.adjustments) {
    const adjustments = invoice.adjustments;
    y = rows(pdf, y + 10, [[`うち過誤調整（前月以前確定分 ${adjustments.records}件・${adjustments.documents}通）`, formatYenSuffix(adjustments.amountDueYen)]]);
  }
  y = section(pdf, y + 14, '市区町村別内訳', invoice.byMunicipality.map((entry) => [`${entry.municipalityCode} ${names.municipalityName?.(entry.municipalityCode) ?? invoice.municipalityNames[entry.municipalityCode] ?? ''}`.trim(), `${entry.documents}通`, formatYenSuffix(entry.feesYen), formatYenSuffix(entry.amountDueYen)]));
  y = section(pdf, y + 14, '証明書種別内訳', invoice.byCertificateType.map((entry) => [invoiceTypeTitle(invoice, entry.certificateType), `${entry.documents}通`, formatYenSuffix(entry.feesYen), formatYenSuffix(entry.amountDueYen)]));
  const stores = invoice.byStore.slice(0, STORES_SHOWN).map((entry) => [entry.storeId, `${entry.documents}通`, formatYenSuffix(entry.feesYen), formatYenSuffix(entry.amountDueYen)]);
  if (invoice.byStore.length > STORES_SHOWN) stores.push([`ほか${invoice.byStore.length - STORES_SHOWN}店舗`, '', '', '']);
  section(pdf, y + 14, '店舗別内訳', stores);
  return finishDocument(pdf);
}

function rows(pdf: Pdf, top: number, lines: Array<[string, string]>): number {
  let y = top;
  pdf.fontSize(10);
  for (const [label, value] of lines) {
    y = roomFor(pdf, y);
    pdf.text(label, marginX, y, { width: contentWidth * 0.65 });
    pdf.text(value, marginX + contentWidth * 0.65, y, { width: contentWidth * 0.35, align: 'right' });
    y += 16;
  }
  return y;
}

function section(pdf: Pdf, top: number, title: string, lines: string[][]): number {
  let y = roomFor(pdf, top);
  pdf.fontSize(11).text(title, marginX, y);
  y += 18;
  pdf.fontSize(9);
  const widths = [0.46, 0.14, 0.2, 0.2];
  for (const line of [['', '通数', '手数料', '差引額'], ...lines]) {
    y = roomFor(pdf, y);
    let x = marginX;
    line.forEach((cell, index) => {
      pdf.text(cell, x, y, { width: contentWidth * widths[index]!, align: index === 0 ? 'left' : 'right' });
      x += contentWidth * widths[index]!;
    });
    y += 14;
  }
  return y;
}

/** A new page when the next line would run off this one. */
function roomFor(pdf: Pdf, y: number): number {
  if (y < bottomLimit) return y;
  pdf.addPage({ size: [pageWidth, pageHeight], margin: 0 });
  return 56;
}
