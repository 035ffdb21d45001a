// pdfkit's drawing calls for what a certificate draws the same way every time (its colours, a
// table row's shading and borders, the table's rules), as the operators pdfkit writes for them.
// Why (docs/runtime-facts.md, "PDF and fonts"): for every call pdfkit parses the colour again,
// joins its parts, copies the transformation matrix for each save and looks the opacity's
// graphic state up by a key it builds; a certificate's table makes a dozen such calls per row.
// The colours are constants, so their operators are written once; shapes only format their
// numbers. test/drivers/pdf/drawing-operators.test.ts holds every helper equal to pdfkit's call.

type Pdf = PDFKit.PDFDocument;

/** Numbers as pdfkit writes them (PDFObject.number): at most six decimals. */
export function pdfkitNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

/**
 * A `#rrggbb` colour's operators as pdfkit's `fillColor(colour)` and `strokeColor(colour)` write
 * them without opacity: the colour space, then the parts divided by 255 as pdfkit divides them,
 * written in full, not rounded. Each is one string of lines: a content stream is its operators
 * each followed by a newline, so one string with newlines between them is the same bytes.
 */
export class RgbColour {
  readonly fill: string;
  readonly stroke: string;

  constructor(readonly colour: string) {
    if (!/^#[0-9a-f]{6}$/i.test(colour)) throw new Error(`not a #rrggbb colour: ${colour}`);
    const hex = parseInt(colour.slice(1), 16);
    const parts = [hex >> 16, (hex >> 8) & 0xff, hex & 0xff].map((part) => part / 255).join(' ');
    this.fill = `/DeviceRGB cs\n${parts} scn`;
    this.stroke = `/DeviceRGB CS\n${parts} SCN`;
  }
}

/** The fill colour pdfkit keeps (`_fillColor`): its line wrapper sets it again on each page it goes on to. */
interface FillState {
  _fillColor?: [string, number | undefined];
}

/**
 * Records what `fillColor(colour, opacity)` records, for operators of it written directly
 * (`colour.fill`, setOpacity).
 */
export function filledWith(pdf: Pdf, colour: RgbColour, opacity?: number): void {
  (pdf as unknown as FillState)._fillColor = [colour.colour, opacity];
}

/** `fillColor(colour)`. */
export function fillColour(pdf: Pdf, colour: RgbColour): void {
  pdf.addContent(colour.fill);
  filledWith(pdf, colour);
}

/** `strokeColor(colour)`. */
export function strokeColour(pdf: Pdf, colour: RgbColour): void {
  pdf.addContent(colour.stroke);
}

/** `rect(x, y, width, height)`. */
export function rectOperator(x: number, y: number, width: number, height: number): string {
  return `${pdfkitNumber(x)} ${pdfkitNumber(y)} ${pdfkitNumber(width)} ${pdfkitNumber(height)} re`;
}

/** `moveTo(x1, y1).lineTo(x2, y2)`. */
export function lineOperators(x1: number, y1: number, x2: number, y2: number): string {
  return `${pdfkitNumber(x1)} ${pdfkitNumber(y1)} m\n${pdfkitNumber(x2)} ${pdfkitNumber(y2)} l`;
}

/** The parts of pdfkit's colour mixin an opacity's graphic state is found in. */
interface OpacityState {
  _opacityRegistry: Record<string, [unknown, string] | undefined>;
  page: { ext_gstates: Record<string, unknown> };
}

/**
 * `fillOpacity(opacity)` (stroke false) or `strokeOpacity(opacity)`. pdfkit makes the graphic
 * state once per document, under a key of both opacities, and names it in the page's resources
 * each time: where it is in both already, only its `gs` is written; otherwise pdfkit's own call
 * makes and registers it, so the states and their numbering are pdfkit's.
 */
export function setOpacity(pdf: Pdf, opacity: number, stroke: boolean): void {
  const state = pdf as unknown as OpacityState;
  const registered = state._opacityRegistry[stroke ? `null_${opacity}` : `${opacity}_null`];
  if (registered !== undefined && state.page.ext_gstates[registered[1]] === registered[0]) {
    pdf.addContent(`/${registered[1]} gs`);
  } else if (stroke) {
    pdf.strokeOpacity(opacity);
  } else {
    pdf.fillOpacity(opacity);
  }
}
