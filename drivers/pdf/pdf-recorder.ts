// PDFs written from recorded operators: pdfkit lays the text out and writes the content-stream
// operators, as it does for any of our documents, but into arrays of this module instead of a
// document of its own; the file around them (pages, fonts, cross-reference table) is written here.
//
// Why (docs/runtime-facts.md, "PDF and fonts"): after the shared font face and the pattern form, a
// certificate's CPU went to pdfkit opening a document (font, pages, info), embedding the font
// subset through fontkit's table encoders and serialising every object. One pdfkit document per
// thread and page size is opened once and only ever used to lay text out; each PDF gets its own
// Noto Serif JP subset of exactly the glyphs its operators use (names with 髙, 﨑, 𠮷 included),
// with the same widths and ToUnicode map pdfkit writes, so pdftotext reads the same text back.
//
// The layout document is pdfkit's own object and some of its fields are private (`_font`,
// `_ctmStack`, the font's `encode`); test/drivers/pdf/certificate-template.test.ts renders every
// certificate both ways and compares, so a pdfkit upgrade that changes them fails there.

import { createHash } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import { DEFAULT_LEVEL, FASTEST, rawDeflate, rawDeflateFlushed, zlibDeflate, zlibHeader } from './deflate.ts';
import { pdfkitNumber } from './drawing-operators.ts';
import { glyphRecordsOf, type FontFace, type TrueTypeSubsetFile } from './font-face.ts';
import { openDocument, type PageSetup } from './pdf-document.ts';
import { SEAL_IMAGE_NAME, sealImageEntries, sealImagePlaceholder, statementPlaceholder } from './seal-blanks.ts';

type Pdf = PDFKit.PDFDocument;

/** A form XObject every page of the document places under a name of its own. */
export interface RecordedForm {
  name: string;
  boundingBox: [number, number, number, number];
  deflatedOperators: Uint8Array;
  /** Forms this form's operators place (`/Name Do`), under their own names in its resources. */
  forms?: RecordedForm[];
}

/** The parts of pdfkit's EmbeddedFont a recording replaces or reads. */
interface EmbeddedFont {
  id: string;
  /** pdfkit's shaped words, by text, for as long as the font lives: unbounded (see record). */
  layoutCache?: Record<string, unknown>;
  font: FontFace & TrueTypeMetrics;
  scale: number;
  ascender: number;
  descender: number;
  layout(text: string, features?: unknown): { glyphs: GlyphOfRun[]; positions: unknown[] };
  encode(text: string, features?: unknown): [string[], unknown[]];
}

interface GlyphOfRun {
  id: number;
  advanceWidth: number;
  codePoints: number[];
}

interface TrueTypeMetrics {
  postscriptName: string;
  unitsPerEm: number;
  bbox: { minX: number; minY: number; maxX: number; maxY: number };
  italicAngle: number;
  capHeight: number;
  ascent: number;
  xHeight: number;
  post: { isFixedPitch: boolean };
  head: { macStyle: { italic: boolean } };
  'OS/2'?: { sFamilyClass: number };
  getGlyph(glyphId: number): { advanceWidth: number };
}

interface LayoutPdf {
  _font: EmbeddedFont;
  _fontSize: number;
  _ctm: number[];
  _ctmStack: number[][];
  _textOptions: unknown;
  _wrapper: unknown;
  page: { height: number; width: number; maxY(): number; resources: { data: { ExtGState?: Record<string, { data: Record<string, unknown> }> } } };
}

/** A document being recorded: draw on `pdf` with pdfkit's API, pages through this object. */
export interface Recording {
  readonly pdf: Pdf;
  readonly pageCount: number;
  /** Starts a new page (the first one is there from the start); later drawing lands on it. */
  addPage(): void;
  /** Later drawing lands on page `index` (0-based), after what is on it already. */
  switchToPage(index: number): void;
  /**
   * `pdf.text(text, x, y, options)` for a text of the layout's fixed text (a label, the title, the
   * certification sentence): laid out by pdfkit the first time, then its operators are replayed at
   * the new position (fixedRuns).
   */
  fixedText(text: string, x: number, y: number, options?: PDFKit.Mixins.TextOptions): void;
}

const layouts = new Map<string, Promise<Pdf>>();

/** The pdfkit document of this thread that lays text out for pages of this size; opened once. */
function layoutDocumentFor(sizePoints: [number, number]): Promise<Pdf> {
  const key = sizePoints.join('x');
  let layout = layouts.get(key);
  if (layout === undefined) {
    layout = openDocument({ sizePoints, title: '', createdAtMs: 0 }).catch((error: unknown) => {
      layouts.delete(key);
      throw error;
    });
    layouts.set(key, layout);
  }
  return layout;
}

/**
 * The text every document of one layout draws (titles, labels, the certification sentence, the
 * mayor and seal): its glyphs lead each such document's subset in a fixed order, so that part of
 * the font file is the same bytes every time and is compressed once per process (deflateReusing).
 * The glyphs of the variable fields (names with 髙, 﨑, 𠮷, addresses, dates) follow.
 */
export interface FixedText {
  /** Names the layout, e.g. its title, labels and municipality; the texts themselves if nothing shorter. */
  key: string;
  texts: string[];
}

/**
 * A document printed in several copies that differ only in a few marks (a certificate's serial and
 * n/N, C§9): what they share is laid out and compressed once, each copy's marks are laid out on
 * their own as a second content stream of each page, and every copy is written as a file of its own
 * around one font subset.
 */
export interface CopiedDrawing {
  /** Everything the copies share: drawn once, on as many pages as it needs. */
  shared(recording: Recording): void;
  /** What copy `index` (0-based) adds on the shared pages; it cannot add pages. */
  copy(recording: Recording, index: number): void;
  count: number;
}

/**
 * Lays a document out on this thread's layout document and writes one PDF per copy. The drawing
 * must be synchronous: the layout document is shared by every document of the thread.
 */
export async function recordPdfCopies(setup: PageSetup, forms: RecordedForm[], drawing: CopiedDrawing, fixed?: FixedText, options: RecordingOptions = {}): Promise<Uint8Array[]> {
  const createdAt = new Date(setup.createdAtMs);
  if (Number.isNaN(createdAt.getTime())) {
    throw new AppError('internal', 'pdf.bad_date', 'createdAtMs is not a valid time');
  }
  if (!Number.isSafeInteger(drawing.count) || drawing.count < 1) {
    throw new AppError('internal', 'pdf.no_copies', 'a document needs at least one copy');
  }
  const pdf = await layoutDocumentFor(setup.sizePoints);
  return record(pdf, setup, createdAt, forms, drawing, fixed, options);
}

export interface RecordingOptions {
  /**
   * Each file gets the blanks of a signed statement and its QR code (drivers/pdf/seal-blanks.ts),
   * which the drawing places with `/${SEAL_IMAGE_NAME} Do`, for the centre to fill in.
   */
  sealed?: boolean;
}

/** Enough layouts for every certificate type of every municipality a centre serves; then it starts over. */
const TEMPLATE_LIMIT = 512;
const templates = new Map<string, GlyphOfRun[]>();

/** The distinct glyphs of a layout's fixed text, in order of first use; once per layout and thread. */
function templateGlyphs(font: EmbeddedFont, fixed: FixedText | undefined): { key: string; glyphs: GlyphOfRun[] } | undefined {
  if (fixed === undefined) return undefined;
  let glyphs = templates.get(fixed.key);
  if (glyphs === undefined) {
    const seen = new Set<number>([0]);
    glyphs = [];
    for (const text of fixed.texts) {
      for (const glyph of font.layout(text).glyphs) {
        if (seen.has(glyph.id)) continue;
        seen.add(glyph.id);
        glyphs.push(glyph);
      }
    }
    if (templates.size >= TEMPLATE_LIMIT) templates.clear();
    templates.set(fixed.key, glyphs);
  }
  return { key: fixed.key, glyphs };
}

function record(pdf: Pdf, setup: PageSetup, createdAt: Date, forms: RecordedForm[], drawing: CopiedDrawing, fixed: FixedText | undefined, options: RecordingOptions): Uint8Array[] {
  const layout = pdf as unknown as LayoutPdf;
  const font = layout._font;
  const pageHeight = layout.page.height;
  let pages: string[][] = [];
  let current: string[] = [];
  let copying = false;
  const startPage = () => {
    if (copying) throw new AppError('internal', 'pdf.copy_adds_page', "a copy's marks cannot add a page");
    current = [`1 0 0 -1 0 ${pdfkitNumber(pageHeight)} cm`];
    for (const form of forms) current.push(`/${form.name} Do`);
    pages.push(current);
    pdf.x = 0;
    pdf.y = 0;
  };
  const template = templateGlyphs(font, fixed);
  const glyphs = new DocumentGlyphs(font, template?.glyphs ?? []);
  const runs = template === undefined ? undefined : fixedRunsOf(template.key);
  const recording: Recording = {
    pdf,
    get pageCount() {
      return pages.length;
    },
    addPage: startPage,
    switchToPage(index) {
      const page = pages[index];
      if (page === undefined) throw new AppError('internal', 'pdf.no_page', `no page ${index + 1} to switch to`);
      current = page;
    },
    fixedText(text, x, y, options = {}) {
      const key = runs && `${layout._fontSize}\u0001${optionsKey(options)}\u0001${text}`;
      const run = key === undefined ? undefined : runs!.get(key);
      // Replayed only where it ends above the page's bottom margin, where pdfkit's line wrapper
      // would not have gone on to a new page; elsewhere pdfkit lays it out again.
      if (run !== undefined && y + run.dy <= layout.page.maxY()) {
        for (const operator of run.operators) current.push(typeof operator === 'string' ? operator : `1 0 0 1 ${pdfkitNumber(x + operator.x)} ${pdfkitNumber(operator.y - y)} Tm`);
        pdf.x = x + run.dx;
        pdf.y = y + run.dy;
        return;
      }
      const page = current;
      const start = page.length;
      const glyphCount = glyphs.fontGlyphIds.length;
      pdf.text(text, x, y, options);
      // Kept only when every glyph was of the fixed text (so its subset ids are the layout's) and no page was added.
      if (key === undefined || current !== page || glyphs.fontGlyphIds.length !== glyphCount) return;
      if (runs!.size >= FIXED_RUN_LIMIT) runs!.clear();
      runs!.set(key, { operators: page.slice(start).map((operator) => relativeToOrigin(operator, x, y)), dx: pdf.x - x, dy: pdf.y - y });
    },
  };
  const addContent = pdf.addContent;
  const encode = font.encode;
  // pdfkit keeps every word it shaped for as long as the font lives. That was one document before;
  // the layout document lives as long as the thread, and the words include names and addresses,
  // so the cache lasts one document here too (font-face.ts keeps a bounded one below it).
  const freshWordCache = () => {
    if (font.layoutCache) font.layoutCache = Object.create(null) as Record<string, unknown>;
  };
  freshWordCache();
  layout.page.resources.data.ExtGState = {};
  layout._ctm = [1, 0, 0, 1, 0, 0];
  layout._ctmStack = [];
  layout._textOptions = null;
  layout._wrapper = null;
  pdf.addContent = (operator: string) => {
    current.push(operator);
    return pdf;
  };
  font.encode = (text, features) => glyphs.encode(text, features);
  let shared: string[][] = [];
  const copies: string[][][] = [];
  try {
    startPage();
    drawing.shared(recording);
    shared = pages;
    copying = true;
    for (let index = 0; index < drawing.count; index += 1) {
      // A copy's marks go to content streams of their own, drawn after the shared page's.
      pages = shared.map(() => []);
      current = pages[0]!;
      drawing.copy(recording, index);
      copies.push(pages);
    }
  } finally {
    pdf.addContent = addContent;
    font.encode = encode;
    freshWordCache();
  }
  const graphicStates = Object.entries(layout.page.resources.data.ExtGState ?? {}).map(([name, reference]) => ({ name, entries: reference.data }));
  // One subset holds the glyphs of every copy (their marks differ only in digits), written once.
  const fontObjects = fontObjectsOf(font, glyphs, template?.key);
  // Each page's shared operators are compressed once and written into every copy's file.
  const sharedContents = shared.map(deflateOperators);
  return copies.map((marks, index) =>
    writePdf({ setup, createdAt, pages: sharedContents.map((content, page) => ({ content, marks: marks[page]! })), forms, graphicStates, font, fontObjects, copy: { index, count: drawing.count }, sealed: options.sealed === true }),
  );
}

/**
 * A fixed text's operators as pdfkit wrote them at (x, y), with each text matrix `1 0 0 1 X Y Tm`
 * kept relative to that point. pdfkit places text only through text matrices (its `_fragment`,
 * X = x + offset, Y = page height − y − baseline), so writing them for another (x, y) gives the
 * operators pdfkit would write there; and where the text left pdf.x and pdf.y.
 */
interface FixedRun {
  operators: (string | { x: number; y: number })[];
  dx: number;
  dy: number;
}

const FIXED_RUN_LIMIT = 1_024;
const fixedRuns = new Map<string, Map<string, FixedRun>>();

/** Forgets the fixed texts laid out so far: the next documents lay them out again (tests compare both). */
export function forgetFixedRuns(): void {
  fixedRuns.clear();
}

/** The fixed texts laid out so far for a layout (its glyphs' subset ids are the layout's). */
function fixedRunsOf(templateKey: string): Map<string, FixedRun> {
  let runs = fixedRuns.get(templateKey);
  if (runs === undefined) {
    if (fixedRuns.size >= TEMPLATE_LIMIT) fixedRuns.clear();
    runs = new Map();
    fixedRuns.set(templateKey, runs);
  }
  return runs;
}

/** Frozen options' keys: a layout passes the same few objects for its every text. */
const optionKeys = new WeakMap<object, string>();

/** The options as JSON, kept for a frozen object of plain values (which cannot change after it is read). */
function optionsKey(options: object): string {
  let key = optionKeys.get(options);
  if (key === undefined) {
    key = JSON.stringify(options);
    if (Object.isFrozen(options) && Object.values(options).every((value) => value === null || typeof value !== 'object')) optionKeys.set(options, key);
  }
  return key;
}

const TEXT_MATRIX = /^1 0 0 1 (-?[\d.e+-]+) (-?[\d.e+-]+) Tm$/;

function relativeToOrigin(operator: string, x: number, y: number): string | { x: number; y: number } {
  const matrix = TEXT_MATRIX.exec(operator);
  return matrix ? { x: Number(matrix[1]) - x, y: Number(matrix[2]) + y } : operator;
}

/** pdfkit ends each operator with a newline (PDFReference.write); so does a content stream here. */
function deflateOperators(operators: string[]): Uint8Array {
  return zlibDeflate(Buffer.from(`${operators.join('\n')}\n`, 'latin1'), FASTEST);
}

/** .notdef's characters in the ToUnicode map, as pdfkit writes them: one array, so its entry is written once (unicodeEntry). */
const NOTDEF_CHARACTERS: readonly number[] = [0];

/** The glyphs one document uses, numbered in order of first use as pdfkit numbers its subset's. */
class DocumentGlyphs {
  readonly fontGlyphIds: number[] = [0];
  readonly widths: number[];
  readonly codePoints: (readonly number[])[] = [NOTDEF_CHARACTERS];
  private readonly subsetIds = new Map<number, string>([[0, '0000']]);

  /** How many glyphs after .notdef came from the layout's fixed text, whether drawn or not. */
  readonly leadingCount: number;

  constructor(
    private readonly font: EmbeddedFont,
    leading: GlyphOfRun[],
  ) {
    // As pdfkit's EmbeddedFont starts its widths: .notdef's advance as it is in the font.
    this.widths = [font.font.getGlyph(0).advanceWidth];
    for (const glyph of leading) this.idOf(glyph);
    this.leadingCount = leading.length;
  }

  /** What pdfkit's EmbeddedFont.encode returns: 4-hex-digit subset ids and the run's positions. */
  encode(text: string, features?: unknown): [string[], unknown[]] {
    const { glyphs, positions } = this.font.layout(text, features);
    const encoded: string[] = [];
    for (const glyph of glyphs) encoded.push(this.idOf(glyph));
    return [encoded, positions];
  }

  /** The glyph's subset id in hex, numbering it if it is new: written once per glyph, not per use. */
  private idOf(glyph: GlyphOfRun): string {
    let subsetId = this.subsetIds.get(glyph.id);
    if (subsetId === undefined) {
      subsetId = hex4(this.fontGlyphIds.length);
      this.fontGlyphIds.push(glyph.id);
      this.subsetIds.set(glyph.id, subsetId);
      this.widths.push(glyph.advanceWidth * this.font.scale);
      this.codePoints.push(glyph.codePoints);
    }
    return subsetId;
  }
}

interface PdfParts {
  setup: PageSetup;
  createdAt: Date;
  /** Each page: the copies' shared operators, compressed, and this copy's own. */
  pages: { content: Uint8Array; marks: string[] }[];
  forms: RecordedForm[];
  graphicStates: { name: string; entries: Record<string, unknown> }[];
  font: EmbeddedFont;
  fontObjects: FontObjects;
  /** Which copy this file is: copies differ in their file ID too. */
  copy: { index: number; count: number };
  /** With the blanks of a signed statement and its QR code (RecordingOptions). */
  sealed: boolean;
}

/** A form XObject, and the forms it places, each in its own object. */
function writeForm(file: PdfFile, form: RecordedForm, id: number): void {
  const nested = (form.forms ?? []).map((inner) => ({ inner, id: file.allocate() }));
  const resources = nested.length > 0 ? ` /Resources << /XObject << ${nested.map(({ inner, id: innerId }) => `/${inner.name} ${innerId} 0 R`).join(' ')} >> >>` : '';
  file.stream(id, `/Type /XObject /Subtype /Form /BBox [${form.boundingBox.map(pdfkitNumber).join(' ')}]${resources} /Filter /FlateDecode`, form.deflatedOperators);
  for (const { inner, id: innerId } of nested) writeForm(file, inner, innerId);
}

/** The file: catalog, pages, info, the forms, graphic states and the font, then the xref table. */
function writePdf(parts: PdfParts): Uint8Array {
  const file = new PdfFile();
  const catalog = file.allocate();
  const pageTree = file.allocate();
  const info = file.allocate();
  const fontId = parts.font.id;
  const type0 = file.allocate();
  const formIds = parts.forms.map((form) => ({ form, id: file.allocate() }));
  const stateIds = parts.graphicStates.map((state) => ({ state, id: file.allocate() }));
  const sealImage = parts.sealed ? file.allocate() : undefined;
  const xObjects = [...formIds.map(({ form, id }) => `/${form.name} ${id} 0 R`), ...(sealImage === undefined ? [] : [`/${SEAL_IMAGE_NAME} ${sealImage} 0 R`])];
  const [width, height] = parts.setup.sizePoints;
  const pageIds: number[] = [];
  const resources =
    `<< /ProcSet [/PDF /Text /ImageB /ImageC /ImageI] /Font << /${fontId} ${type0} 0 R >>` +
    (xObjects.length > 0 ? ` /XObject << ${xObjects.join(' ')} >>` : '') +
    (stateIds.length > 0 ? ` /ExtGState << ${stateIds.map(({ state, id }) => `/${state.name} ${id} 0 R`).join(' ')} >>` : '') +
    ' >>';
  for (const { content, marks } of parts.pages) {
    const page = file.allocate();
    const shared = file.allocate();
    // ISO 32000-1 §7.8.2: an array of content streams is drawn as their concatenation.
    const own = marks.length > 0 ? file.allocate() : undefined;
    pageIds.push(page);
    const contents = own === undefined ? `${shared} 0 R` : `[${shared} 0 R ${own} 0 R]`;
    file.object(page, `<< /Type /Page /Parent ${pageTree} 0 R /MediaBox [0 0 ${pdfkitNumber(width)} ${pdfkitNumber(height)}] /Contents ${contents} /Resources ${resources} >>`);
    file.stream(shared, '', content);
    if (own !== undefined) file.stream(own, '', deflateOperators(marks));
  }
  file.object(catalog, `<< /Type /Catalog /Pages ${pageTree} 0 R /Lang ${textString('ja-JP')} /ViewerPreferences << /DisplayDocTitle true >> >>`);
  file.object(pageTree, `<< /Type /Pages /Count ${pageIds.length} /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] >>`);
  const date = pdfDate(parts.createdAt);
  const infoEntries = { Title: parts.setup.title, Creator: 'cvs-issue', Producer: 'cvs-issue' };
  file.object(
    info,
    `<< ${Object.entries(infoEntries).map(([key, value]) => `/${key} ${textString(value)}`).join(' ')} /CreationDate ${date} /ModDate ${date}${parts.sealed ? ` ${statementPlaceholder()}` : ''} >>`,
  );
  for (const { form, id } of formIds) writeForm(file, form, id);
  if (sealImage !== undefined) file.rawStream(sealImage, sealImageEntries(), sealImagePlaceholder());
  for (const { state, id } of stateIds) {
    file.object(id, `<< ${Object.entries(state.entries).map(([key, value]) => `/${key} ${typeof value === 'number' ? pdfkitNumber(value) : `/${String(value)}`}`).join(' ')} >>`);
  }
  writeFont(file, type0, parts.font, parts.fontObjects);
  // As pdfkit: the file ID is a hash of the info, so the same content gives the same bytes; each copy its own.
  const copyText = parts.copy.count > 1 ? `\n${parts.copy.index + 1}/${parts.copy.count}` : '';
  const fileId = createHash('md5').update(`${parts.createdAt.getTime()}\n${JSON.stringify(infoEntries)}\n${parts.pages.length}${copyText}`).digest('hex');
  return file.finish(`/Root ${catalog} 0 R /Info ${info} 0 R /ID [<${fileId}> <${fileId}>]`);
}

/** The font's name, widths and compressed streams: the same for every copy of a document. */
interface FontObjects {
  name: string;
  widths: string;
  fontFile: Uint8Array;
  toUnicode: Uint8Array;
}

function fontObjectsOf(font: EmbeddedFont, glyphs: DocumentGlyphs, templateKey: string | undefined): FontObjects {
  const subset = glyphRecordsOf(font.font).subset(glyphs.fontGlyphIds, 1 + glyphs.leadingCount, templateKey);
  return {
    name: `${subsetTag(glyphs.fontGlyphIds)}+${font.font.postscriptName.replaceAll(' ', '_')}`,
    widths: glyphs.widths.map(pdfkitNumber).join(' '),
    fontFile: templateKey === undefined ? zlibDeflate(subset.bytes, FASTEST) : deflateReusing(subset, templateKey),
    toUnicode: zlibDeflate(Buffer.from(toUnicodeCmap(glyphs.codePoints), 'latin1'), FASTEST),
  };
}

/** The Type 0 font over a CIDFontType2 subset, written as pdfkit's EmbeddedFont.embed writes it. */
function writeFont(file: PdfFile, type0: number, font: EmbeddedFont, objects: FontObjects): void {
  const cidFont = file.allocate();
  const descriptor = file.allocate();
  const fontFile = file.allocate();
  const toUnicode = file.allocate();
  const { name } = objects;
  file.object(type0, `<< /Type /Font /Subtype /Type0 /BaseFont /${name} /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] /ToUnicode ${toUnicode} 0 R >>`);
  file.object(
    cidFont,
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> ` +
      `/FontDescriptor ${descriptor} 0 R /W [0 [${objects.widths}]] /CIDToGIDMap /Identity >>`,
  );
  file.object(descriptor, `<< /Type /FontDescriptor /FontName /${name} ${descriptorEntries(font)} /FontFile2 ${fontFile} 0 R >>`);
  file.stream(fontFile, '', objects.fontFile);
  file.stream(toUnicode, '', objects.toUnicode);
}

const descriptorCache = new WeakMap<object, string>();

/** The descriptor's entries other than the name and file, as pdfkit computes them; once per face. */
function descriptorEntries(font: EmbeddedFont): string {
  const face = font.font;
  let entries = descriptorCache.get(face);
  if (entries === undefined) {
    const familyClass = (face['OS/2']?.sFamilyClass ?? 0) >> 8;
    let flags = 1 << 2;
    if (face.post.isFixedPitch) flags |= 1 << 0;
    if (familyClass >= 1 && familyClass <= 7) flags |= 1 << 1;
    if (familyClass === 10) flags |= 1 << 3;
    if (face.head.macStyle.italic) flags |= 1 << 6;
    const { bbox } = face;
    const scale = font.scale;
    entries =
      `/Flags ${flags} /FontBBox [${[bbox.minX, bbox.minY, bbox.maxX, bbox.maxY].map((value) => pdfkitNumber(value * scale)).join(' ')}] ` +
      `/ItalicAngle ${pdfkitNumber(face.italicAngle)} /Ascent ${pdfkitNumber(font.ascender)} /Descent ${pdfkitNumber(font.descender)} ` +
      `/CapHeight ${pdfkitNumber((face.capHeight || face.ascent) * scale)} /XHeight ${pdfkitNumber((face.xHeight || 0) * scale)} /StemV 0`;
    descriptorCache.set(face, entries);
  }
  return entries;
}

/** Six capital letters from the glyph list: another subset gets another tag (ISO 32000-1 §9.6.4). */
function subsetTag(glyphIds: number[]): string {
  const digest = createHash('sha256').update(Uint32Array.from(glyphIds)).digest();
  return Array.from(digest.subarray(0, 6), (byte) => String.fromCharCode(65 + (byte % 26))).join('');
}

/**
 * What each certificate deflates afresh (its page contents, the tables after its glyphs, its
 * ToUnicode map) is deflated at zlib's fastest level: a 住民票 rendered in 1.1 ms instead of 1.5 ms
 * under Bun and grew from 22.7 to 24.0 KB (docs/runtime-facts.md, "PDF and fonts"). Glyph records,
 * deflated once per layout (the fixed text's) or once per glyph (the others), keep the default level.
 */
interface CompressedPart {
  deflated: Uint8Array;
  adler: number;
  length: number;
}

const compressedRecords = new Map<string, CompressedPart & { records: Buffer }>();
/** A glyph's record compressed on its own, kept as long as the face keeps the record (font-face.ts). */
const compressedGlyphs = new WeakMap<Uint8Array, CompressedPart>();

function compressedGlyph(record: Uint8Array): CompressedPart {
  let part = compressedGlyphs.get(record);
  if (part === undefined) {
    part = { deflated: rawDeflateFlushed(record, DEFAULT_LEVEL), adler: adler32(record), length: record.length };
    compressedGlyphs.set(record, part);
  }
  return part;
}

/**
 * A zlib stream (RFC 1950) of a font file whose glyph records are compressed once: the fixed text's
 * together, once per layout, and every other glyph's on its own, once per glyph. Deflate blocks
 * (RFC 1951) may follow one another from separate compressors: each part is compressed on its own,
 * so none refers back into another, and all but the last end with a sync flush (a byte-aligned,
 * non-final empty block). The checksum is over the whole file, joined from the parts'. A cached
 * part is used only while it holds exactly the bytes it was made from. The part before the records
 * is the font's table directory (glyf comes first: drivers/pdf/font-face.ts), some 150 bytes that
 * deflate hardly shrinks: it is stored. Only the tables after the glyphs (loca, hmtx and the small
 * fixed ones, a few KB) are compressed for each file (docs/runtime-facts.md, "PDF and fonts").
 */
function deflateReusing(subset: TrueTypeSubsetFile, key: string): Uint8Array {
  const { bytes, leadingRecords: middle } = subset;
  if (middle.end - middle.start < 1024) return zlibDeflate(bytes, FASTEST);
  const records = Buffer.from(bytes.buffer, bytes.byteOffset + middle.start, middle.end - middle.start);
  let cached = compressedRecords.get(key);
  if (cached === undefined || !cached.records.equals(records)) {
    if (compressedRecords.size >= TEMPLATE_LIMIT) compressedRecords.clear();
    cached = { records: Buffer.from(records), deflated: rawDeflateFlushed(records, DEFAULT_LEVEL), adler: adler32(records), length: records.length };
    compressedRecords.set(key, cached);
  }
  const head = bytes.subarray(0, middle.start);
  const parts: CompressedPart[] = [{ deflated: storedBlocks(head), adler: adler32(head), length: head.length }, cached];
  let at = middle.end;
  for (const record of subset.otherRecords) {
    // Each record must be the bytes that lie there: the part stands for them in the stream.
    const part = compressedGlyph(record);
    parts.push(part);
    at += part.length;
  }
  const tail = bytes.subarray(at);
  parts.push({ deflated: rawDeflate(tail, FASTEST), adler: adler32(tail), length: tail.length });
  let length = 2 + 4;
  for (const part of parts) length += part.deflated.length;
  const result = new Uint8Array(length);
  result.set(zlibHeader(DEFAULT_LEVEL), 0);
  let offset = 2;
  let sum = 1; // the Adler-32 of no bytes
  for (const part of parts) {
    result.set(part.deflated, offset);
    offset += part.deflated.length;
    sum = adler32Combine(sum, part.adler, part.length);
  }
  new DataView(result.buffer).setUint32(result.length - 4, sum);
  return result;
}

/** The most bytes one stored block holds (RFC 1951 §3.2.4: LEN is 16 bits). */
const STORED_BLOCK_LIMIT = 0xffff;

/**
 * Bytes as non-final stored deflate blocks (RFC 1951 §3.2.4), each starting on a byte boundary:
 * the header bits (BFINAL 0, BTYPE 00) padded to a byte, LEN and its one's complement NLEN, little-endian, then the bytes.
 */
export function storedBlocks(bytes: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(bytes.length / STORED_BLOCK_LIMIT));
  const result = new Uint8Array(bytes.length + 5 * blocks);
  let at = 0;
  for (let start = 0; start < bytes.length || at === 0; start += STORED_BLOCK_LIMIT) {
    const length = Math.min(STORED_BLOCK_LIMIT, bytes.length - start);
    result[at] = 0;
    result[at + 1] = length & 0xff;
    result[at + 2] = length >>> 8;
    result[at + 3] = ~length & 0xff;
    result[at + 4] = (~length >>> 8) & 0xff;
    result.set(bytes.subarray(start, start + length), at + 5);
    at += 5 + length;
  }
  return result;
}

const ADLER_BASE = 65521;

/**
 * The Adler-32 of two parts joined, from each part's and the second's length (zlib's
 * adler32_combine): the cached records are not summed again for every file.
 */
export function adler32Combine(first: number, second: number, secondLength: number): number {
  const remainder = secondLength % ADLER_BASE;
  let low = first & 0xffff;
  let high = (remainder * low) % ADLER_BASE;
  low += (second & 0xffff) + ADLER_BASE - 1;
  high += ((first >>> 16) & 0xffff) + ((second >>> 16) & 0xffff) + ADLER_BASE - remainder;
  if (low >= ADLER_BASE) low -= ADLER_BASE;
  if (low >= ADLER_BASE) low -= ADLER_BASE;
  if (high >= 2 * ADLER_BASE) high -= 2 * ADLER_BASE;
  if (high >= ADLER_BASE) high -= ADLER_BASE;
  return ((high << 16) | low) >>> 0;
}

/** RFC 1950 §8.2; sums reduced every 5,552 bytes, as zlib does, long before they could overflow. */
export function adler32(bytes: Uint8Array): number {
  let low = 1;
  let high = 0;
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(start + 5552, bytes.length);
    for (let index = start; index < end; index += 1) {
      low += bytes[index]!;
      high += low;
    }
    low %= 65521;
    high %= 65521;
  }
  return ((high << 16) | low) >>> 0;
}

/**
 * A glyph's ToUnicode entry, by the array of its characters: fontkit gives each glyph object one
 * array, set when the glyph is made and never changed, so the entry is written once per glyph, not per file.
 */
const unicodeEntries = new WeakMap<readonly number[], string>();

function unicodeEntry(codePoints: readonly number[]): string {
  let entry = unicodeEntries.get(codePoints);
  if (entry === undefined) {
    const encoded: string[] = [];
    for (let value of codePoints) {
      if (value > 0xffff) {
        value -= 0x10000;
        encoded.push(hex4(((value >>> 10) & 0x3ff) | 0xd800));
        value = 0xdc00 | (value & 0x3ff);
      }
      encoded.push(hex4(value));
    }
    entry = `<${encoded.join(' ')}>`;
    unicodeEntries.set(codePoints, entry);
  }
  return entry;
}

/** pdfkit's ToUnicode CMap: one bfrange per 256 subset ids, UTF-16BE with surrogate pairs (𠮷). */
function toUnicodeCmap(codePointsById: (readonly number[])[]): string {
  const entries = codePointsById.map(unicodeEntry);
  const ranges: string[] = [];
  for (let start = 0; start < entries.length; start += 256) {
    const end = Math.min(start + 256, entries.length);
    ranges.push(`<${hex4(start)}> <${hex4(end - 1)}> [${entries.slice(start, end).join(' ')}]`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo <<',
    '  /Registry (Adobe)',
    '  /Ordering (UCS)',
    '  /Supplement 0',
    '>> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000><ffff>',
    'endcodespacerange',
    `${ranges.length} beginbfrange`,
    ...ranges,
    'endbfrange',
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

/**
 * Objects numbered by `allocate`, written in any order; the xref table lists them by number. The
 * text between two streams is kept as one string and the file is put together once, in `finish`:
 * a Buffer for each piece of text, copied again at the end, was a tenth of writing a file.
 * Text is written as latin1, one byte per character, as Buffer.from(text, 'latin1') writes it.
 */
class PdfFile {
  private readonly parts: (string | Uint8Array)[] = [];
  /** The text written since the last stream's bytes. */
  private text = '';
  private readonly offsets: number[] = [];
  private length = 0;
  private count = 0;

  constructor() {
    // A binary comment after the header, as pdfkit writes, marks the file as binary for transfers.
    this.write('%PDF-1.4\n%\xff\xff\xff\xff\n');
  }

  allocate(): number {
    this.count += 1;
    return this.count;
  }

  object(id: number, body: string): void {
    this.offsets[id] = this.length;
    this.write(`${id} 0 obj\n${body}\nendobj\n`);
  }

  stream(id: number, entries: string, deflated: Uint8Array): void {
    this.offsets[id] = this.length;
    const filter = entries.includes('/Filter') ? '' : ' /Filter /FlateDecode';
    this.write(`${id} 0 obj\n<< ${entries}${filter} /Length ${deflated.length} >>\nstream\n`);
    this.writeBytes(deflated);
    this.write('\nendstream\nendobj\n');
  }

  /** A stream stored as it is, without a filter: its bytes stay where they are written. */
  rawStream(id: number, entries: string, bytes: Uint8Array): void {
    this.offsets[id] = this.length;
    this.write(`${id} 0 obj\n<< ${entries} /Length ${bytes.length} >>\nstream\n`);
    this.writeBytes(bytes);
    this.write('\nendstream\nendobj\n');
  }

  finish(trailer: string): Uint8Array {
    const xref = this.length;
    let rows = `xref\n0 ${this.count + 1}\n0000000000 65535 f `;
    for (let id = 1; id <= this.count; id += 1) {
      const offset = this.offsets[id];
      if (offset === undefined) throw new AppError('internal', 'pdf.object_missing', `PDF object ${id} was allocated but not written`);
      rows += `\n${tenDigits(offset)} 00000 n `;
    }
    this.write(`${rows}\ntrailer\n<< /Size ${this.count + 1} ${trailer} >>\nstartxref\n${xref}\n%%EOF\n`);
    this.parts.push(this.text);
    const result = new Uint8Array(this.length);
    const writer = Buffer.from(result.buffer, result.byteOffset, result.length);
    let offset = 0;
    for (const part of this.parts) {
      if (typeof part === 'string') writer.write(part, offset, part.length, 'latin1');
      else result.set(part, offset);
      offset += part.length;
    }
    return result;
  }

  private write(text: string): void {
    this.text += text;
    this.length += text.length;
  }

  private writeBytes(bytes: Uint8Array): void {
    this.parts.push(this.text, bytes);
    this.text = '';
    this.length += bytes.length;
  }
}

/** An xref offset: ten digits, zero-padded (ISO 32000-1 §7.5.4). */
function tenDigits(value: number): string {
  const digits = String(value);
  return '0000000000'.slice(digits.length) + digits;
}

/** Every byte as two lower-case hex digits. */
const HEX_BYTES = Array.from({ length: 256 }, (_, value) => value.toString(16).padStart(2, '0'));

/** Four lower-case hex digits, more if the value needs them. */
function hex4(value: number): string {
  if (value > 0xffff) return value.toString(16);
  return HEX_BYTES[value >>> 8]! + HEX_BYTES[value & 0xff]!;
}

/** A text string: ASCII as a literal, anything else as UTF-16BE with its byte-order mark. */
function textString(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `(${value.replace(/[()\\]/g, (character) => `\\${character}`)})`;
  let hex = 'feff';
  for (let index = 0; index < value.length; index += 1) hex += hex4(value.charCodeAt(index));
  return `<${hex}>`;
}

/** D:YYYYMMDDHHmmSSZ in UTC, as pdfkit writes dates. */
function pdfDate(date: Date): string {
  const two = (value: number) => value.toString().padStart(2, '0');
  return `(D:${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z)`;
}
