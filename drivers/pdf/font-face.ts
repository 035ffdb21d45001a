// The parsed Noto Serif JP face every PDF of a process shares. Parsing the 17,099-glyph font and
// shaping the same strings (titles, labels, the certification sentence) again for each document
// was most of a certificate's cost (bench/issuance.bench.ts); pdfkit takes a fontkit face in place
// of the font bytes and still embeds, per document, a subset of exactly the glyphs it drew, so
// every glyph a name needs (髙, 﨑, 𠮷) is in the file as before.

import { AppError } from '../../core/errors.ts';
import { loadJapaneseFont } from './font.ts';

/** What pdfkit reads of a shaped run: glyphs, their positions, and the sum of the advances. */
interface GlyphRun {
  glyphs: unknown[];
  positions: Record<string, number>[];
  readonly advanceWidth: number;
}

/** A fontkit face: pdfkit recognises one by its `layout` function. */
export interface FontFace {
  layout(text: string, features?: unknown): GlyphRun;
  createSubset(): unknown;
}

/** The parts of fontkit's TrueType face and subset (TTFSubset) that subsetting touches. */
interface TrueTypeFace extends FontFace {
  _variationProcessor?: unknown;
  loca?: { offsets: number[] };
  getGlyph(glyphId: number): { advanceWidth: number; _decode(): { numberOfContours: number } | null; _getMetrics(): { leftBearing: number } };
  _getTableStream(tag: string): { pos: number; readBuffer(length: number): Uint8Array };
}

interface TrueTypeSubset {
  glyf: Uint8Array[];
  loca: { offsets: number[] };
  hmtx: { metrics: { advance: number; bearing: number }[] };
  offset: number;
  _addGlyph(glyphId: number): number;
}

/** What a subset copies of a simple glyph: its glyf record and metrics. */
interface GlyphRecord {
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
 * the positions each time; the glyph objects are only read.
 */
function withShapingCache(face: FontFace): FontFace {
  const shape = face.layout.bind(face);
  const runs = new Map<string, GlyphRun>();
  face.layout = (text, features) => {
    if (features !== undefined) return shape(text, features);
    let run = runs.get(text);
    if (run === undefined) {
      if (runs.size >= SHAPED_RUN_LIMIT) runs.clear();
      run = shape(text);
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
  const trueType = face as TrueTypeFace;
  if (trueType._variationProcessor || !trueType.loca) return face;
  /** A glyph's record, or null for a compound glyph. */
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
  const createSubset = face.createSubset.bind(face);
  face.createSubset = () => {
    const subset = createSubset() as TrueTypeSubset;
    const addAsFontkitDoes = subset._addGlyph.bind(subset);
    subset._addGlyph = (glyphId) => {
      const record = recordOf(glyphId);
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
