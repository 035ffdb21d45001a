// A left-aligned value that fits on one line of its box, drawn as pdfkit's line wrapper would
// draw it, without running the wrapper. The certificate's table measures every value
// (heightOfString) and then draws it (text): two passes of pdfkit's LineWrapper, the word
// breaker and a width per word, which were the largest part of a certificate's layout
// (docs/runtime-facts.md, "PDF and fonts"). Most values (a name, a date, an address) are one
// line; those now cost one width and one fragment. Anything that might wrap or break goes to
// pdfkit as before. test/drivers/pdf/one-line-text.test.ts holds the operators of both ways equal.

type Pdf = PDFKit.PDFDocument;

/** pdfkit's private fragment writer: the operators of one line at (x, y), as its wrapper calls it. */
interface FragmentWriter {
  _fragment(text: string, x: number, y: number, options: PDFKit.Mixins.TextOptions): void;
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
  (pdf as unknown as FragmentWriter)._fragment(value, x, y, { width: box.width, lineGap: box.lineGap });
  pdf.x = x;
  pdf.y = y + (pdf.currentLineHeight(true) + box.lineGap);
}
