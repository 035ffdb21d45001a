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
}

/** Enough for the fixed text of every certificate type and a busy hour's names; then it starts over. */
const SHAPED_RUN_LIMIT = 4_096;

let cachedFace: Promise<FontFace> | undefined;

/** The face, parsed once per process (per worker thread), with shaping results kept by text. */
export function loadJapaneseFace(): Promise<FontFace> {
  // fontkit comes with pdfkit, imported when the first document is made (see pdf-document.ts).
  cachedFace ??= Promise.all([import('fontkit'), loadJapaneseFont()])
    .then(([fontkit, bytes]) => withShapingCache(openFace(fontkit.create, bytes)))
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
