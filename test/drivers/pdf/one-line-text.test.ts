// Proves a value drawn as one line without pdfkit's line wrapper (drivers/pdf/one-line-text.ts)
// writes exactly the operators pdf.text writes, and has the height pdf.heightOfString gives, for
// names with 髙, 﨑, 𠮷, addresses, dates and values right up to the width; that whatever
// might wrap or break is left to pdfkit; and that a line written by writeLine is the line pdfkit
// writes for pdf.text(text, x, y, { lineBreak: false }), with kerned and offset glyphs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawOneLine, oneLineHeight, writeLine, type OneLineBox } from '../../../drivers/pdf/one-line-text.ts';
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

describe('a line written directly', () => {
  const texts = ['証明書番号 ', 'REQ-20261127-000001', '-1（1/2通）', '　端末番号 K-0001　1／3', 'AVAWAY To. Wa', 'kerned AV and plain 髙﨑 𠮷', ' spaced  out ', ''];
  const places = [
    [60, 40],
    [411.6789, 789.89],
    [0.0000004, 1 / 3],
  ] as const;

  it('writes what pdf.text writes with lineBreak false, at whole and fractional points and several sizes', async () => {
    const pdf = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    for (const size of [8, 9, 11.5, 17.25]) {
      pdf.fontSize(size);
      for (const text of texts) {
        for (const [x, y] of places) {
          const expected = operatorsOf(pdf, () => pdf.text(text, x, y, { lineBreak: false })).operators;
          assert.deepEqual(operatorsOf(pdf, () => writeLine(pdf, text, x, y)).operators, expected, `${JSON.stringify(text)} at ${x}, ${y}, ${size} pt`);
        }
      }
    }
  });

  it('drops line feeds as _fragment does (pdf.text would start a line for each: drawRuns leaves those to it)', async () => {
    const pdf = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    pdf.fontSize(9);
    const writer = pdf as unknown as { _fragment(text: string, x: number, y: number, options: object): void };
    for (const text of ['改行\nあり', '\n', 'end\n']) {
      const expected = operatorsOf(pdf, () => writer._fragment(text, 60, 40, {})).operators;
      assert.deepEqual(operatorsOf(pdf, () => writeLine(pdf, text, 60, 40)).operators, expected, JSON.stringify(text));
    }
  });

  it('places glyphs the shaper moves off their place as pdfkit does, each with a text matrix of its own', async () => {
    const pdf = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    pdf.fontSize(11.5);
    // This font moves no glyph of these texts; the font's encode is made to, so both writers get the same offsets.
    const font = (pdf as unknown as { _font: { encode(text: string): [string[], { xOffset: number; yOffset: number; xAdvance: number }[]] } })._font;
    const encode = font.encode.bind(font);
    font.encode = (text) => {
      const [encoded, positions] = encode(text);
      return [encoded, positions.map((position, index) => ({ ...position, xOffset: index % 3 === 1 ? 37.5 : 0, yOffset: index % 4 === 2 ? -120.25 : 0, xAdvance: position.xAdvance + (index % 5 === 0 ? -40 : 0) }))];
    };
    for (const text of ['髙﨑 𠮷太郎 東京都千代田区', 'AVAWAY To. Wa', 'abcdefg']) {
      const expected = operatorsOf(pdf, () => pdf.text(text, 60, 150, { lineBreak: false })).operators;
      assert.ok(expected.filter((operator) => operator.endsWith(' Tm')).length > 2, 'offsets make text matrices of their own');
      assert.deepEqual(operatorsOf(pdf, () => writeLine(pdf, text, 60, 150)).operators, expected, text);
    }
  });
});
