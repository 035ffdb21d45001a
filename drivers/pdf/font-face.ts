// The parsed Noto Serif JP face every PDF of a process shares. Parsing the 17,099-glyph font and
// shaping the same strings (titles, labels, the certification sentence) again for each document
// was most of a certificate's cost (bench/issuance.bench.ts); pdfkit takes a fontkit face in place
// of the font bytes and still embeds, per document, a subset of exactly the glyphs it drew, so
// every glyph a name needs (髙, 﨑, 𠮷) is in the file as before.

import { AppError } from '../../core/errors.ts';
import { loadJapaneseFont } from './font.ts';
import { segmentedShaper, type GlyphRun, type ShapedFace } from './shaping-segments.ts';

/** A fontkit face: pdfkit recognises one by its `layout` function. */
export interface FontFace {
  layout(text: string, features?: unknown, script?: string): GlyphRun;
  createSubset(): unknown;
}

/** The parts of fontkit's TrueType face and subset (TTFSubset) that subsetting touches. */
interface TrueTypeFace extends FontFace {
  _variationProcessor?: unknown;
  loca?: { offsets: number[] };
  getGlyph(glyphId: number): { advanceWidth: number; _decode(): { numberOfContours: number } | null; _getMetrics(): { leftBearing: number } };
  _getTableStream(tag: string): { pos: number; readBuffer(length: number): Uint8Array };
  directory: { tables: Record<string, { offset: number; length: number } | undefined> };
}

interface TrueTypeSubset {
  glyf: Uint8Array[];
  loca: { offsets: number[] };
  hmtx: { metrics: { advance: number; bearing: number }[] };
  offset: number;
  _addGlyph(glyphId: number): number;
}

/** What a subset copies of a simple glyph: its glyf record and metrics. */
export interface GlyphRecord {
  bytes: Uint8Array;
  advance: number;
  bearing: number;
}

/** Enough for the fixed text of every certificate type and a busy hour's names; then it starts over. */
const SHAPED_RUN_LIMIT = 4_096;

let cachedFace: Promise<FontFace> | undefined;

/** The face, parsed once per process (per worker thread), with shaping results kept by text. */
export function loadJapaneseFace(): Promise<FontFace> {
  // fontkit comes with pdfkit, imported when the first document is made (see pdf-document.ts).
  cachedFace ??= Promise.all([import('fontkit'), loadJapaneseFont()])
    .then(([fontkit, bytes]) => withGlyphRecordCache(withShapingCache(openFace(fontkit.create, bytes))))
    .catch((error: unknown) => {
      cachedFace = undefined;
      throw error;
    });
  return cachedFace;
}

function openFace(create: (bytes: Uint8Array) => unknown, bytes: Uint8Array): FontFace {
  try {
    return create(bytes) as FontFace;
  } catch {
    throw new AppError('internal', 'pdf.font_invalid', 'the Japanese font could not be parsed');
  }
}

/**
 * Shaping is a pure function of the text (no features are passed for our documents), so a run is
 * kept and handed out again. pdfkit scales the positions it gets in place, hence a fresh copy of
 * the positions each time; the glyph objects are only read. A text not seen yet is put together
 * from the runs of its pieces where the font allows (drivers/pdf/shaping-segments.ts).
 */
function withShapingCache(face: FontFace): FontFace {
  const shape = face.layout.bind(face);
  const segmented = segmentedShaper(face as unknown as ShapedFace, shape);
  const runs = new Map<string, GlyphRun>();
  face.layout = (text, features, script) => {
    if (features !== undefined || script !== undefined) return shape(text, features, script);
    let run = runs.get(text);
    if (run === undefined) {
      if (runs.size >= SHAPED_RUN_LIMIT) runs.clear();
      run = segmented(text) ?? shape(text);
      runs.set(text, run);
    }
    return copyOf(run);
  };
  return face;
}

function copyOf(run: GlyphRun): GlyphRun {
  const positions = run.positions.map((position) => ({ ...position }));
  return {
    glyphs: run.glyphs,
    positions,
    get advanceWidth() {
      let width = 0;
      for (const position of positions) width += position.xAdvance ?? 0;
      return width;
    },
  };
}

/**
 * Each document's subset copies its glyphs' glyf records again; fontkit decodes every glyph's
 * whole outline for that (TTFSubset._addGlyph), only to learn whether it is compound: a quarter of
 * a certificate's rendering (bench/issuance.bench.ts). A simple glyph's record is read once here
 * and added as fontkit adds it, giving the same bytes. A compound glyph (Noto Serif JP has none in
 * the BMP) and a variable font's glyphs are left to fontkit, which renumbers or re-encodes them.
 */
function withGlyphRecordCache(face: FontFace): FontFace {
  const records = glyphRecordsOf(face);
  if (!records.cached) return face;
  const createSubset = face.createSubset.bind(face);
  face.createSubset = () => {
    const subset = createSubset() as TrueTypeSubset;
    const addAsFontkitDoes = subset._addGlyph.bind(subset);
    subset._addGlyph = (glyphId) => {
      const record = records.recordOf(glyphId);
      if (record === null) return addAsFontkitDoes(glyphId);
      subset.glyf.push(record.bytes);
      subset.loca.offsets.push(subset.offset);
      subset.hmtx.metrics.push({ advance: record.advance, bearing: record.bearing });
      subset.offset += record.bytes.length;
      return subset.glyf.length - 1;
    };
    return subset;
  };
  return face;
}

/** A face's glyph records and the TrueType subsets made of them (drivers/pdf/pdf-recorder.ts). */
export interface GlyphRecords {
  /** False for a face whose glyphs fontkit must re-encode (a variable font); then nothing is cached. */
  readonly cached: boolean;
  /** A simple glyph's record, or null for a compound glyph. */
  recordOf(glyphId: number): GlyphRecord | null;
  /**
   * A TrueType font of these glyphs, numbered in this order (the first is .notdef, 0), with the
   * tables fontkit's TTFSubset writes for a PDF: head, hhea, maxp, loca, glyf, hmtx and the face's
   * cvt, prep and fpgm. Written here from the cached records: fontkit's table encoders were half
   * of embedding a certificate's font (bench/issuance.bench.ts). A compound glyph goes to fontkit.
   * The leading glyphs' records are joined and summed once per `leadingKey` (a layout's fixed text).
   */
  subset(glyphIds: number[], leadingCount?: number, leadingKey?: string): TrueTypeSubsetFile;
}

export interface TrueTypeSubsetFile {
  bytes: Uint8Array;
  /**
   * Where in `bytes` the glyf records of the first `leadingCount` glyphs lie, one after the other:
   * the same bytes for the same leading glyphs, whatever follows (the glyf table comes first).
   */
  leadingRecords: { start: number; end: number };
  /** The records of the other glyphs, in order: they lie one after the other from `leadingRecords.end`. */
  otherRecords: Uint8Array[];
}

const glyphRecords = new WeakMap<FontFace, GlyphRecords>();

export function glyphRecordsOf(face: FontFace): GlyphRecords {
  let records = glyphRecords.get(face);
  if (records === undefined) {
    records = makeGlyphRecords(face as TrueTypeFace);
    glyphRecords.set(face, records);
  }
  return records;
}

function makeGlyphRecords(trueType: TrueTypeFace): GlyphRecords {
  const cached = !trueType._variationProcessor && trueType.loca !== undefined;
  const records = new Map<number, GlyphRecord | null>();
  const recordOf = (glyphId: number): GlyphRecord | null => {
    let record = records.get(glyphId);
    if (record === undefined) {
      const glyph = trueType.getGlyph(glyphId);
      const outline = glyph._decode();
      if (outline !== null && outline.numberOfContours < 0) {
        record = null;
      } else {
        const offsets = trueType.loca!.offsets;
        const stream = trueType._getTableStream('glyf');
        stream.pos += offsets[glyphId]!;
        const bytes = stream.readBuffer(offsets[glyphId + 1]! - offsets[glyphId]!);
        record = { bytes, advance: glyph.advanceWidth, bearing: glyph._getMetrics().leftBearing };
      }
      records.set(glyphId, record);
    }
    return record;
  };
  let fixedTables: Map<string, Uint8Array> | undefined;
  const leadingRecords = new Map<string, LeadingRecords>();
  const subsetByFontkit = (glyphIds: number[]): TrueTypeSubsetFile => {
    const subset = trueType.createSubset() as TrueTypeSubset & { includeGlyph(glyphId: number): number; encode(): Uint8Array };
    for (const glyphId of glyphIds.slice(1)) subset.includeGlyph(glyphId);
    return { bytes: subset.encode(), leadingRecords: { start: 0, end: 0 }, otherRecords: [] };
  };
  return {
    cached,
    recordOf,
    subset(glyphIds, leadingCount = 0, leadingKey) {
      if (!cached) return subsetByFontkit(glyphIds);
      const chosen: GlyphRecord[] = [];
      for (const glyphId of glyphIds) {
        const record = recordOf(glyphId);
        if (record === null) return subsetByFontkit(glyphIds);
        chosen.push(record);
      }
      fixedTables ??= rawTables(trueType, ['head', 'hhea', 'maxp', 'cvt ', 'prep', 'fpgm']);
      const leading = leadingKey === undefined ? undefined : leadingRecordsOf(leadingRecords, leadingKey, glyphIds, chosen, leadingCount);
      return trueTypeFile(fixedTables, chosen, leadingCount, leading);
    },
  };
}

/** The face's own bytes of these tables (those it has). */
function rawTables(face: TrueTypeFace, tags: string[]): Map<string, Uint8Array> {
  const tables = new Map<string, Uint8Array>();
  for (const tag of tags) {
    const entry = face.directory.tables[tag];
    if (entry === undefined) continue;
    const stream = face._getTableStream(tag);
    tables.set(tag, Uint8Array.from(stream.readBuffer(entry.length)));
  }
  return tables;
}

/**
 * The glyf records of a layout's leading glyphs (its fixed text), joined, with their share of the
 * glyf table's checksum: the same for every document of the layout, so joined and summed once.
 */
interface LeadingRecords {
  glyphIds: number[];
  bytes: Uint8Array;
  /** The checksum of a glyf table that held these bytes and zeros after them. */
  sum: number;
}

/** Enough layouts for every certificate type of every municipality a centre serves; then it starts over. */
const LEADING_LIMIT = 512;

function leadingRecordsOf(cache: Map<string, LeadingRecords>, key: string, glyphIds: number[], glyphs: GlyphRecord[], leadingCount: number): LeadingRecords {
  const cached = cache.get(key);
  if (cached !== undefined && cached.glyphIds.length === leadingCount && sameStart(cached.glyphIds, glyphIds)) return cached;
  const leading = glyphs.slice(0, leadingCount);
  let length = 0;
  for (const glyph of leading) length += glyph.bytes.length;
  // Zero-padded to whole words, as the glyf table is summed.
  const bytes = new Uint8Array(padded(length));
  let offset = 0;
  for (const glyph of leading) {
    bytes.set(glyph.bytes, offset);
    offset += glyph.bytes.length;
  }
  const records = { glyphIds: glyphIds.slice(0, leadingCount), bytes: bytes.subarray(0, length), sum: checksum(bytes, 0, bytes.length) };
  if (cache.size >= LEADING_LIMIT) cache.clear();
  cache.set(key, records);
  return records;
}

/** Whether `glyphIds` starts with `start`. */
function sameStart(start: number[], glyphIds: number[]): boolean {
  if (glyphIds.length < start.length) return false;
  for (let index = 0; index < start.length; index += 1) if (start[index] !== glyphIds[index]) return false;
  return true;
}

/**
 * An sfnt file (OpenType spec, "Organization of an OpenType font") of the records, long loca
 * offsets. The directory lists tables by tag, as the spec asks; their data may lie in any order,
 * and glyf is put first so the leading glyphs' records sit at the same place in every file.
 * Every table is written straight into the file.
 */
function trueTypeFile(fixedTables: Map<string, Uint8Array>, glyphs: GlyphRecord[], leadingCount: number, leading?: LeadingRecords): TrueTypeSubsetFile {
  const count = glyphs.length;
  let glyfLength = 0;
  for (const glyph of glyphs) glyfLength += glyph.bytes.length;
  const lengths = new Map<string, number>([
    ['head', fixedTables.get('head')!.length],
    ['hhea', fixedTables.get('hhea')!.length],
    ['maxp', fixedTables.get('maxp')!.length],
    ['loca', 4 * (count + 1)],
    ['glyf', glyfLength],
    ['hmtx', 4 * count],
  ]);
  for (const tag of ['cvt ', 'prep', 'fpgm']) {
    const table = fixedTables.get(tag);
    if (table !== undefined) lengths.set(tag, table.length);
  }
  const tags = [...lengths.keys()].sort();
  const dataOrder = ['glyf', ...tags.filter((tag) => tag !== 'glyf')];
  const directoryLength = 12 + 16 * tags.length;
  const positions = new Map<string, number>();
  let total = directoryLength;
  for (const tag of dataOrder) {
    positions.set(tag, total);
    total += padded(lengths.get(tag)!);
  }
  const file = new Uint8Array(total);
  const view = new DataView(file.buffer);
  for (const tag of ['head', 'hhea', 'maxp', 'cvt ', 'prep', 'fpgm']) {
    const table = fixedTables.get(tag);
    if (table !== undefined) file.set(table, positions.get(tag)!);
  }
  const head = positions.get('head')!;
  view.setUint32(head + 8, 0); // checkSumAdjustment, set below over the whole file
  view.setInt16(head + 50, 1); // indexToLocFormat: long offsets
  view.setUint16(positions.get('hhea')! + 34, count); // numberOfHMetrics
  view.setUint16(positions.get('maxp')! + 4, count); // numGlyphs
  const glyf = positions.get('glyf')!;
  const loca = positions.get('loca')!;
  const hmtx = positions.get('hmtx')!;
  const joined = leading?.glyphIds.length === leadingCount ? leading : undefined;
  const others = glyphs.slice(leadingCount);
  if (joined !== undefined) file.set(joined.bytes, glyf);
  let offset = 0;
  glyphs.forEach((glyph, index) => {
    view.setUint32(loca + 4 * index, offset);
    if (joined === undefined || index >= leadingCount) file.set(glyph.bytes, glyf + offset);
    offset += glyph.bytes.length;
    view.setUint16(hmtx + 4 * index, glyph.advance);
    view.setInt16(hmtx + 4 * index + 2, glyph.bearing);
  });
  view.setUint32(loca + 4 * count, offset);
  const entrySelector = Math.floor(Math.log2(tags.length));
  const searchRange = 16 * 2 ** entrySelector;
  view.setUint32(0, 0x00010000);
  view.setUint16(4, tags.length);
  view.setUint16(6, searchRange);
  view.setUint16(8, entrySelector);
  view.setUint16(10, 16 * tags.length - searchRange);
  // Tables are 4-aligned and zero-padded, so the file's sum is the directory's plus each table's:
  // every byte is summed once, and the leading records' bytes once per layout.
  let fileSum = 0;
  tags.forEach((tag, index) => {
    const at = positions.get(tag)!;
    const length = lengths.get(tag)!;
    const entry = 12 + 16 * index;
    for (let character = 0; character < 4; character += 1) view.setUint8(entry + character, tag.charCodeAt(character));
    const tableSum = tag === 'glyf' && joined !== undefined ? glyfChecksum(joined, others) : checksum(file, at, padded(length));
    fileSum = (fileSum + tableSum) >>> 0;
    view.setUint32(entry + 4, tableSum);
    view.setUint32(entry + 8, at);
    view.setUint32(entry + 12, length);
  });
  fileSum = (fileSum + checksum(file, 0, directoryLength)) >>> 0;
  view.setUint32(head + 8, (0xb1b0afba - fileSum) >>> 0);
  let leadingLength = 0;
  for (const glyph of glyphs.slice(0, leadingCount)) leadingLength += glyph.bytes.length;
  return { bytes: file, leadingRecords: { start: glyf, end: glyf + leadingLength }, otherRecords: others.map((glyph) => glyph.bytes) };
}

/**
 * The glyf table's checksum from the leading records' share and each other record's: a sum of
 * words is a sum over bytes, each weighted by its place in its word, so the parts add up, and a
 * record's share depends only on where it starts within a word (recordSum). No byte of the table
 * is summed for a file; the zero padding adds nothing.
 */
function glyfChecksum(leading: LeadingRecords, others: GlyphRecord[]): number {
  let sum = leading.sum;
  let offset = leading.bytes.length;
  for (const record of others) {
    sum = (sum + recordSum(record.bytes, offset & 3)) >>> 0;
    offset += record.bytes.length;
  }
  return sum;
}

/** A record's share of a table's checksum when it starts `shift` bytes into a word, kept per record and shift. */
const recordSums = new WeakMap<Uint8Array, number[]>();

export function recordSum(bytes: Uint8Array, shift: number): number {
  let sums = recordSums.get(bytes);
  if (sums === undefined) {
    sums = [];
    recordSums.set(bytes, sums);
  }
  let sum = sums[shift];
  if (sum === undefined) {
    sum = 0;
    for (let index = 0; index < bytes.length; index += 1) sum += bytes[index]! * 2 ** (8 * (3 - ((shift + index) & 3)));
    // Each term is below 2^32, so the sum is exact below 2^53: for any record under 2^21 bytes (glyph records are a few hundred).
    sum = sum % 2 ** 32;
    sums[shift] = sum;
  }
  return sum;
}

function padded(length: number): number {
  return (length + 3) & ~3;
}

/** The sum of big-endian uint32s, modulo 2^32 (tables are zero-padded to a multiple of 4). */
function checksum(file: Uint8Array, start: number, length: number): number {
  const view = new DataView(file.buffer, file.byteOffset + start, length);
  let sum = 0;
  for (let offset = 0; offset < length; offset += 4) sum = (sum + view.getUint32(offset)) >>> 0;
  return sum;
}
