// Proves a value drawn as one line without pdfkit's line wrapper (drivers/pdf/one-line-text.ts)
// writes exactly the operators pdf.text writes, and has the height pdf.heightOfString gives, for
// names with 髙, 﨑, 𠮷, addresses, dates and values right up to the width; and that whatever
// might wrap or break is left to pdfkit.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawOneLine, oneLineHeight, type OneLineBox } from '../../../drivers/pdf/one-line-text.ts';
import { openDocument } from '../../../drivers/pdf/pdf-document.ts';

type Pdf = PDFKit.PDFDocument;

/** The operators `draw` writes, and where it leaves pdf.x and pdf.y. */
function operatorsOf(pdf: Pdf, draw: () => void): { operators: string[]; x: number; y: number } {
  const operators: string[] = [];
  const writable = pdf as unknown as { addContent(operator: string): Pdf };
  const addContent = writable.addContent;
  writable.addContent = (operator: string) => {
    operators.push(operator);
    return pdf;
  };
  try {
    draw();
  } finally {
    writable.addContent = addContent;
  }
  return { operators, x: pdf.x, y: pdf.y };
}

const box: OneLineBox = { width: 355.28, lineGap: 2 };

const oneLineValues = [
  '髙橋 﨑子',
  '𠮷田 太郎',
  '東京都千代田区霞が関二丁目1番2号',
  '昭和45年（1970年）3月31日',
  'A-1 Building, 2F  (two spaces)',
  '  leading spaces',
  'trailing spaces   ',
  'tab\there',
  '1234567890',
];

describe('one-line values', () => {
  it('write the operators pdf.text writes and have its height, at 11.5 pt and 8 pt', async () => {
    const pdf = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    for (const size of [11.5, 8]) {
      pdf.fontSize(size).fillColor('#111111');
      for (const value of oneLineValues) {
        const height = oneLineHeight(pdf, value, box);
        assert.equal(height, pdf.heightOfString(value, { ...box }), `${value}: height`);
        const expected = operatorsOf(pdf, () => pdf.text(value, 167, 150, { ...box }));
        const actual = operatorsOf(pdf, () => drawOneLine(pdf, value, 167, 150, box));
        assert.deepEqual(actual, expected, `${value} at ${size} pt`);
      }
    }
  });

  it('is right up to the width: the longest run that is one line is drawn as pdfkit draws it', async () => {
    const pdf = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    pdf.fontSize(11.5);
    let value = '';
    let lastOneLine = '';
    while (pdf.widthOfString(value) <= box.width * 1.05) {
      value += '住所丁目番地号';
      for (const prefix of Array.from(value).map((_, index) => value.slice(0, index + 1))) {
        const height = oneLineHeight(pdf, prefix, box);
        if (height === undefined) continue;
        lastOneLine = prefix;
        assert.equal(height, pdf.heightOfString(prefix, { ...box }), `${prefix.length} characters: height`);
      }
    }
    assert.ok(pdf.widthOfString(lastOneLine) > box.width * 0.95, 'the fast path reaches near the width');
    const expected = operatorsOf(pdf, () => pdf.text(lastOneLine, 167, 150, { ...box }));
    assert.deepEqual(operatorsOf(pdf, () => drawOneLine(pdf, lastOneLine, 167, 150, box)), expected);
  });

  it('leaves to pdfkit what is empty, too wide, or may break on its own', async () => {
    const pdf = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    pdf.fontSize(11.5);
    for (const value of ['', '一行目\n二行目', 'CR\rhere', 'form\ffeed', 'line\u2028separator', 'para\u2029separator', 'next\u0085line', 'vertical\u000btab', 'soft\u00adhyphen', '東京都'.repeat(40)]) {
      assert.equal(oneLineHeight(pdf, value, box), undefined, JSON.stringify(value));
    }
  });
});
