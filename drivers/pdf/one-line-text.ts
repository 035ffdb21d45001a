// A left-aligned value that fits on one line of its box, drawn as pdfkit's line wrapper would
// draw it, without running the wrapper. The certificate's table measures every value
// (heightOfString) and then draws it (text): two passes of pdfkit's LineWrapper, the word
// breaker and a width per word, which were the largest part of a certificate's layout
// (docs/runtime-facts.md, "PDF and fonts"). Most values (a name, a date, an address) are one
// line; those now cost one width and one line of operators (writeLine). Anything that might wrap
// or break goes to pdfkit as before. test/drivers/pdf/one-line-text.test.ts holds the operators of
// both ways equal.

import { pdfkitNumber } from './drawing-operators.ts';

type Pdf = PDFKit.PDFDocument;

/** A glyph's place in a shaped run, in thousandths of the font size (pdfkit's EmbeddedFont.encode). */
interface GlyphPosition {
  xAdvance: number;
  advanceWidth: number;
  xOffset: number;
  yOffset: number;
}

/** pdfkit's private state that its line writer (`_fragment`) reads. */
interface TextState {
  _font: { id: string; ascender: number; ref(): unknown; encode(text: string): [string[], GlyphPosition[]] };
  _fontSize: number;
  page: { height: number; fonts: Record<string, unknown> };
}

/**
 * Where pdfkit's line breaker must or may break other than between words (linebreak's mandatory
 * breaks: LF, CR, VT, FF, NEL, LS, PS), and the soft hyphen its wrapper rewrites. Tab is spaced
 * by the font like any character and breaks like a space.
 */
const SPECIAL_BREAK = /[\n\r\u000b\f\u0085\u2028\u2029\u00ad]/;

/**
 * The wrapper fits word by word and the widths of the words may differ from the width of the
 * whole run by the kerning between them; a run this far inside its box fits either way.
 */
const FIT_MARGIN = 0.98;

/** Options for one value: left-aligned in `width`, with `lineGap` below each line, as the table draws it. */
export interface OneLineBox {
  width: number;
  lineGap: number;
}

/**
 * The value's height as pdf.heightOfString(value, box) gives it, when the value is one line for
 * certain; undefined when pdfkit must lay it out (it is empty, may break, or is near the width).
 */
export function oneLineHeight(pdf: Pdf, value: string, box: OneLineBox): number | undefined {
  if (value.length === 0 || SPECIAL_BREAK.test(value)) return undefined;
  if (pdf.widthOfString(value) > box.width * FIT_MARGIN) return undefined;
  // As heightOfString computes it, from where pdf.y stands, to the same last bit.
  const y = pdf.y;
  return y + (pdf.currentLineHeight(true) + box.lineGap) - y;
}

/**
 * pdf.text(value, x, y, box) for a value oneLineHeight said is one line: the same operators, and
 * pdf.x and pdf.y left where pdfkit's wrapper leaves them (x, and y one line lower).
 */
export function drawOneLine(pdf: Pdf, value: string, x: number, y: number, box: OneLineBox): void {
  writeLine(pdf, value, x, y);
  pdf.x = x;
  pdf.y = y + (pdf.currentLineHeight(true) + box.lineGap);
}

/**
 * The operators pdfkit's `_fragment(text, x, y, options)` writes for one line at (x, y) when the
 * options only place it (left-aligned, without character or word spacing, scaling, baseline,
 * features, link, underline, strike or oblique): the same text matrix, font and TJ runs, in the
 * same order. What `_fragment` works out besides, and drops for such options, is not worked out:
 * the line's width (a second layout of the text), its word count, and the copy of the matrix
 * stack that its save, transform and restore leave as it was (docs/runtime-facts.md, "PDF and
 * fonts"). pdf.x and pdf.y are left to the caller, as `_fragment` leaves them.
 */
export function writeLine(pdf: Pdf, text: string, x: number, y: number): void {
  if (text.includes('\n')) text = text.replaceAll('\n', '');
  if (text.length === 0) return;
  const state = pdf as unknown as TextState;
  const font = state._font;
  const fontSize = state._fontSize;
  const page = state.page;
  // The font's ascender above the top of the line, in the page's upward coordinates.
  const dy = (font.ascender / 1000) * fontSize;
  const baseline = page.height - y - dy;
  pdf.addContent('q');
  pdf.addContent(`1 0 0 -1 0 ${pdfkitNumber(page.height)} cm`);
  if (page.fonts[font.id] == null) page.fonts[font.id] = font.ref();
  pdf.addContent('BT');
  pdf.addContent(`1 0 0 1 ${pdfkitNumber(x)} ${pdfkitNumber(baseline)} Tm`);
  pdf.addContent(`/${font.id} ${pdfkitNumber(fontSize)} Tf`);
  const [encoded, positions] = font.encode(text);
  // As _fragment splits the run: a TJ segment ends after each glyph whose advance is not its
  // width (kerning), and a glyph moved off the baseline gets a text matrix of its own.
  const scale = fontSize / 1000;
  const commands: string[] = [];
  let last = 0;
  let hadOffset = false;
  let at = x;
  const addSegment = (end: number) => {
    if (last < end) {
      const position = positions[end - 1]!;
      commands.push(`<${encoded.slice(last, end).join('')}> ${pdfkitNumber(-(position.xAdvance - position.advanceWidth))}`);
    }
    last = end;
  };
  const flush = (end: number) => {
    addSegment(end);
    if (commands.length > 0) {
      pdf.addContent(`[${commands.join(' ')}] TJ`);
      commands.length = 0;
    }
  };
  let index = 0;
  for (; index < positions.length; index += 1) {
    const position = positions[index]!;
    if (position.xOffset || position.yOffset) {
      flush(index);
      pdf.addContent(`1 0 0 1 ${pdfkitNumber(at + position.xOffset * scale)} ${pdfkitNumber(baseline + position.yOffset * scale)} Tm`);
      flush(index + 1);
      hadOffset = true;
    } else {
      if (hadOffset) {
        pdf.addContent(`1 0 0 1 ${pdfkitNumber(at)} ${pdfkitNumber(baseline)} Tm`);
        hadOffset = false;
      }
      if (position.xAdvance - position.advanceWidth !== 0) addSegment(index + 1);
    }
    at += position.xAdvance * scale;
  }
  flush(index);
  pdf.addContent('ET');
  pdf.addContent('Q');
}
