// Shaping a fresh text (a name, an address, a date) piece by piece. fontkit shapes every text
// afresh: it maps the characters to glyphs, picks the script's lookups, and runs the font's
// substitutions (GSUB) and positionings (GPOS) over the glyphs. That was about 12% of a
// certificate's rendering when the residents vary, as they do at a centre (docs/runtime-facts.md,
// "PDF and fonts"). But a lookup starts only at a glyph in its coverage, and those that the default
// features use reach only a few glyphs past it: a ligature its components, a kerning pair the next
// glyph. Between two glyphs that no lookup can join, the text is cut; each piece is shaped once
// by fontkit, with the script of the whole text, and the pieces' glyphs and positions are put end to
// end. Noto Serif JP's kanji are in no coverage of those lookups, so a name or an address falls
// into pieces that recur from resident to resident (a kanji, 1丁目, 12番).
//
// What the cut relies on is checked against the font, and the text goes whole to fontkit when it
// does not hold: a lookup of a kind not modelled here (contextual, chained, cursive), a flag that
// skips base glyphs or ligatures, a mark (which attaches backwards), a variation selector, a
// fraction slash (which turns on features for the digits around it), or a script that fontkit shapes
// with a shaper of its own (Arabic, Indic, Hangul …). test/drivers/pdf/shaping-segments.test.ts
// holds the pieces equal to fontkit's whole run, glyph for glyph and position for position.

/** The features fontkit's default shaper applies to left-to-right horizontal text (its DefaultShaper.plan). */
const DEFAULT_FEATURES = new Set(['rvrn', 'ltra', 'ltrm', 'frac', 'numr', 'dnom', 'ccmp', 'locl', 'rlig', 'mark', 'mkmk', 'calt', 'clig', 'liga', 'rclt', 'curs', 'kern']);

/**
 * Scripts (fontkit's tags, from Unicode's script of the first character that has one) that
 * fontkit shapes with its default shaper, which only runs lookups; 'zzzz' is a text of digits,
 * punctuation and spaces only.
 */
const SEGMENTED_SCRIPTS = new Set(['hani', 'kana', 'hira', 'hrkt', 'latn', 'zzzz']);
const NO_SCRIPT = 'zzzz';

const GDEF_MARK = 3;

/** An array as fontkit (restructure) parses it: a plain array, or a LazyArray read through toArray(). */
type List<T> = ArrayLike<T> | { toArray(): T[] };

function items<T>(list: List<T> | undefined): T[] {
  if (list === undefined) return [];
  return 'toArray' in list && typeof list.toArray === 'function' ? list.toArray() : Array.from(list as ArrayLike<T>);
}

interface Coverage {
  glyphs?: List<number>;
  rangeRecords?: List<{ start: number; end: number }>;
}

interface ClassDefinition {
  startGlyph?: number;
  classValueArray?: List<number>;
  classRangeRecord?: List<{ start: number; end: number; class: number }>;
}

interface LookupFlags {
  flags?: { ignoreBaseGlyphs?: boolean; ignoreLigatures?: boolean };
}

/** A subtable as fontkit parses it; an extension's own subtable is `extension`. */
interface Subtable {
  lookupType?: number;
  extension?: Subtable;
  coverage?: Coverage;
  markCoverage?: Coverage;
  mark1Coverage?: Coverage;
  deltaGlyphID?: number;
  substitute?: List<number>;
  sequences?: List<List<number>>;
  ligatureSets?: List<List<{ glyph: number; components: List<number> }>>;
}

interface Lookup {
  lookupType: number;
  flags: LookupFlags;
  subTables: List<Subtable>;
}

interface LangSys {
  reqFeatureIndex?: number;
  featureIndexes: List<number>;
}

interface LayoutTable {
  scriptList: List<{ tag: string; script: { defaultLangSys?: LangSys; langSysRecords?: List<{ langSys: LangSys }> } }>;
  featureList: List<{ tag: string; feature: { lookupListIndexes: List<number> } }>;
  lookupList: { get(index: number): Lookup };
}

/** The parts of a fontkit face the plan reads. */
export interface ShapedFace {
  GSUB?: LayoutTable;
  GPOS?: LayoutTable;
  GDEF?: { glyphClassDef?: ClassDefinition };
  kern?: unknown;
  _variationProcessor?: unknown;
  glyphForCodePoint(codePoint: number): { id: number };
}

/**
 * Where a text of one script may be cut, from the lookups fontkit applies to it: the default
 * features of the default language of the script's table (or of DFLT, dflt or latn, as fontkit
 * falls back), in GSUB and in GPOS.
 */
export interface SegmentPlan {
  /** How many glyphs after the start of a ligature stay in its piece: its other components, and the glyph after it. */
  readonly reach: number;
  /** Glyphs some lookup may start at; a cut after any other glyph is always allowed. */
  readonly starts: ReadonlySet<number>;
  /** A ligature's start and the glyphs that may follow it in one (after any substitution of theirs). */
  readonly ligatures: ReadonlyMap<number, ReadonlySet<number>>;
  /** Glyphs that may become the start of a ligature: the piece holds `reach` glyphs after them. */
  readonly reaching: ReadonlySet<number>;
  /** Glyphs that look back (marks) or may become marks: a text with one is shaped whole. */
  readonly whole: ReadonlySet<number>;
}

/** fontkit's fallback when a table has no entry for the text's script (its OTProcessor.selectScript). */
const FALLBACK_SCRIPTS = ['DFLT', 'dflt', 'latn'];

/** The plan for one script, or undefined when its lookups include kinds the cut does not model. */
export function segmentPlanOf(face: ShapedFace, script: string): SegmentPlan | undefined {
  // A variable font's glyphs and a kern table's pairs are outside what is modelled here.
  if (face._variationProcessor || face.kern) return undefined;
  const found: Found = { starts: new Set(), whole: new Set(), ligatures: new Map(), substitutes: new Map(), longest: 1 };
  const tables: [LayoutTable | undefined, 'GSUB' | 'GPOS'][] = [[face.GSUB, 'GSUB'], [face.GPOS, 'GPOS']];
  for (const [table, kind] of tables) {
    if (table === undefined) continue;
    for (const index of defaultLookups(table, script)) {
      const lookup = table.lookupList.get(index);
      const extended = lookup.lookupType === (kind === 'GSUB' ? 7 : 9);
      for (const outer of items(lookup.subTables)) {
        const subtable = extended ? outer.extension : outer;
        const type = extended ? outer.lookupType : lookup.lookupType;
        if (subtable === undefined || type === undefined) return undefined;
        const modelled = kind === 'GSUB' ? substitution(subtable, type, lookup.flags, found) : positioning(subtable, type, lookup.flags, found);
        if (!modelled) return undefined;
      }
    }
  }
  // A glyph substituted into a ligature's start reaches as a ligature does; one substituted into a
  // ligature's component may follow that ligature's start; one substituted into a mark would
  // attach to the glyph before it, so its text is shaped whole.
  const reaching = new Set<number>();
  const ligatures = new Map<number, Set<number>>();
  for (const [start, components] of found.ligatures) ligatures.set(start, new Set(components));
  for (const [glyph, outputs] of found.substitutes) {
    if (outputs.some((output) => found.ligatures.has(output))) reaching.add(glyph);
    if (outputs.some((output) => isMark(face, output))) found.whole.add(glyph);
    for (const components of ligatures.values()) if (outputs.some((output) => components.has(output))) components.add(glyph);
  }
  return { reach: found.longest, starts: found.starts, ligatures, reaching, whole: found.whole };
}

/** What the lookups of a plan touch, gathered subtable by subtable. */
interface Found {
  starts: Set<number>;
  whole: Set<number>;
  /** A ligature's start and the first components after it. */
  ligatures: Map<number, Set<number>>;
  /** A substituted glyph and what it may become. */
  substitutes: Map<number, number[]>;
  /** The most components of a ligature. */
  longest: number;
}

/** The lookups of the default features that fontkit applies to a script: its table's, or the fallback's, default language. */
function defaultLookups(table: LayoutTable, script: string): Set<number> {
  const scripts = items(table.scriptList);
  const entry = scripts.find((candidate) => candidate.tag === script) ?? FALLBACK_SCRIPTS.map((tag) => scripts.find((candidate) => candidate.tag === tag)).find((candidate) => candidate !== undefined);
  const lookups = new Set<number>();
  const language = entry?.script.defaultLangSys;
  if (language === undefined) return lookups;
  const features = items(table.featureList);
  // fontkit ignores a required feature; counting its lookups only cuts less.
  const indexes = [...items(language.featureIndexes), ...(language.reqFeatureIndex !== undefined && language.reqFeatureIndex !== 0xffff ? [language.reqFeatureIndex] : [])];
  for (const featureIndex of indexes) {
    const feature = features[featureIndex]!;
    if (DEFAULT_FEATURES.has(feature.tag) || featureIndex === language.reqFeatureIndex) for (const lookup of items(feature.feature.lookupListIndexes)) lookups.add(lookup);
  }
  return lookups;
}

/** Whether a lookup skips glyphs other than marks when it looks for the next one (then it may reach past them). */
function skipsBasesOrLigatures(flags: LookupFlags): boolean {
  return flags.flags?.ignoreBaseGlyphs === true || flags.flags?.ignoreLigatures === true;
}

/** Gathers a substitution's glyphs; false for a kind not modelled. */
function substitution(subtable: Subtable, type: number, flags: LookupFlags, found: Found): boolean {
  const covered = glyphsOf(subtable.coverage);
  for (const glyph of covered) found.starts.add(glyph);
  const substituted = (glyph: number, outputs: number[]) => found.substitutes.set(glyph, [...(found.substitutes.get(glyph) ?? []), ...outputs]);
  switch (type) {
    case 1: // single: one glyph for another
    {
      const substitutes = items(subtable.substitute);
      covered.forEach((glyph, index) => substituted(glyph, [subtable.deltaGlyphID !== undefined ? (glyph + subtable.deltaGlyphID) & 0xffff : substitutes[index]!]));
      return true;
    }
    case 2: // multiple: several glyphs in the place of one
      items(subtable.sequences).forEach((sequence, index) => substituted(covered[index]!, items(sequence)));
      return true;
    case 3: // alternate: only features outside the default ones choose among them
      return true;
    case 4: // ligature: the starting glyph and the components after it
      if (skipsBasesOrLigatures(flags)) return false;
      items(subtable.ligatureSets).forEach((ligatures, index) => {
        const start = covered[index]!;
        const components = found.ligatures.get(start) ?? new Set<number>();
        for (const ligature of items(ligatures)) {
          const rest = items(ligature.components);
          found.longest = Math.max(found.longest, rest.length + 1);
          if (rest.length > 0) components.add(rest[0]!);
          substituted(start, [ligature.glyph]);
        }
        found.ligatures.set(start, components);
      });
      return true;
    default: // contextual, chained, reverse chained: they look back and ahead
      return false;
  }
}

/** Gathers a positioning's glyphs; false for a kind not modelled. */
function positioning(subtable: Subtable, type: number, flags: LookupFlags, found: Found): boolean {
  switch (type) {
    case 1: // single adjustment
      for (const glyph of glyphsOf(subtable.coverage)) found.starts.add(glyph);
      return true;
    case 2: // pair: the starting glyph and the next (fontkit then moves on by one glyph, whatever the pair)
      if (skipsBasesOrLigatures(flags)) return false;
      for (const glyph of glyphsOf(subtable.coverage)) found.starts.add(glyph);
      return true;
    case 4: // mark to base
    case 5: // mark to ligature
      for (const glyph of glyphsOf(subtable.markCoverage)) found.whole.add(glyph);
      return true;
    case 6: // mark to mark
      for (const glyph of glyphsOf(subtable.mark1Coverage)) found.whole.add(glyph);
      return true;
    default: // cursive, contextual, chained
      return false;
  }
}

function glyphsOf(coverage: Coverage | undefined): number[] {
  if (coverage === undefined) return [];
  const glyphs = items(coverage.glyphs);
  for (const range of items(coverage.rangeRecords)) for (let glyph = range.start; glyph <= range.end; glyph += 1) glyphs.push(glyph);
  return glyphs;
}

/** A mark in the face's GDEF glyph classes. */
function isMark(face: ShapedFace, glyph: number): boolean {
  const classes = face.GDEF?.glyphClassDef;
  return classes !== undefined && classOf(classes, glyph) === GDEF_MARK;
}

/** A glyph's class in an OpenType ClassDef (format 1: classes from a start glyph on; format 2: ranges). */
function classOf(definition: ClassDefinition, glyph: number): number {
  if (definition.classValueArray !== undefined && definition.startGlyph !== undefined) {
    return items(definition.classValueArray)[glyph - definition.startGlyph] ?? 0;
  }
  return items(definition.classRangeRecord).find((range) => glyph >= range.start && glyph <= range.end)?.class ?? 0;
}

/** What pdfkit reads of a shaped run (drivers/pdf/font-face.ts). */
export interface GlyphRun {
  glyphs: unknown[];
  positions: Record<string, number>[];
  readonly advanceWidth: number;
  readonly script?: string;
}

/** fontkit's layout: text, features (none here) and the script, as fontkit's tag. */
export type Shape = (text: string, features?: undefined, script?: string) => GlyphRun;

interface CodePoint {
  glyph: number;
  /** fontkit's script tag for the character alone ('zzzz': none, as for digits and punctuation). */
  script: string;
  /** The text must go whole to fontkit whatever its script. */
  whole: boolean;
}

/** Pieces (a kanji, 1丁目) recur; fresh texts of one piece (a request id) do not. Then it starts over. */
const PIECE_LIMIT = 16_384;
const CODE_POINT_LIMIT = 65_536;
const PAIR_LIMIT = 65_536;

/**
 * A shaper that gives fontkit's run for a text from the runs of its pieces, or undefined when the
 * text must be shaped whole (then the caller asks fontkit).
 */
export function segmentedShaper(face: ShapedFace, shape: Shape): (text: string) => GlyphRun | undefined {
  const plans = new Map<string, SegmentPlan | undefined>();
  const codePoints = new Map<number, CodePoint>();
  const pieces = new Map<string, GlyphRun>();
  const pairs = new Map<string, boolean>();
  const planOf = (script: string) => {
    if (!plans.has(script)) plans.set(script, SEGMENTED_SCRIPTS.has(script) ? segmentPlanOf(face, script) : undefined);
    return plans.get(script);
  };
  const codePointOf = (value: number): CodePoint => {
    let known = codePoints.get(value);
    if (known === undefined) {
      const glyph = face.glyphForCodePoint(value).id;
      // fontkit finds a text's script as the script of its first character that has one.
      const script = shape(String.fromCodePoint(value)).script;
      // A script fontkit has no tag for ends its search there. A character the font lacks is .notdef,
      // one glyph object for them all, whose characters are those it was first made for (fontkit
      // hides it when those are default-ignorable). A mark attaches to the glyph before it. A
      // variation selector chooses the glyph with the character before it; a fraction slash turns
      // on features for the digits around it. Each such text is left to fontkit whole.
      const whole = script === undefined || glyph === 0 || isMark(face, glyph) || (value >= 0xfe00 && value <= 0xfe0f) || (value >= 0xe0100 && value <= 0xe01ef) || value === 0x2044;
      known = { glyph, script: script ?? NO_SCRIPT, whole };
      if (codePoints.size >= CODE_POINT_LIMIT) codePoints.clear();
      codePoints.set(value, known);
    }
    return known;
  };
  const pieceOf = (script: string, text: string): GlyphRun => {
    const key = script + text;
    let run = pieces.get(key);
    if (run === undefined) {
      run = shape(text, undefined, script);
      if (pieces.size >= PIECE_LIMIT) pieces.clear();
      pieces.set(key, run);
    }
    return run;
  };
  /** Whether fontkit shapes the two characters together otherwise than each alone: a kerning pair, a ligature of two. */
  const shapedTogether = (script: string, first: string, second: string): boolean => {
    const key = `${script}${first}\u0000${second}`;
    let together = pairs.get(key);
    if (together === undefined) {
      together = !sameRun(shape(first + second, undefined, script), [pieceOf(script, first), pieceOf(script, second)]);
      if (pairs.size >= PAIR_LIMIT) pairs.clear();
      pairs.set(key, together);
    }
    return together;
  };
  return (text) => {
    // Where each character starts in the text, and one past the last.
    const starts: number[] = [];
    const glyphs: number[] = [];
    let script = NO_SCRIPT;
    for (let unit = 0; unit < text.length; ) {
      // A surrogate pair is one character (𠮷), as fontkit reads it; a lone surrogate stands for itself.
      const value = text.codePointAt(unit)!;
      const character = codePointOf(value);
      if (character.whole) return undefined;
      if (script === NO_SCRIPT) script = character.script;
      starts.push(unit);
      glyphs.push(character.glyph);
      unit += value > 0xffff ? 2 : 1;
    }
    starts.push(text.length);
    const plan = planOf(script);
    if (plan === undefined) return undefined;
    for (const glyph of glyphs) if (plan.whole.has(glyph)) return undefined;
    const runs: GlyphRun[] = [];
    let from = 0;
    let joinedUntil = -1;
    for (let index = 1; index <= glyphs.length; index += 1) {
      if (index < glyphs.length) {
        const before = glyphs[index - 1]!;
        if (plan.reaching.has(before) || plan.ligatures.get(before)?.has(glyphs[index]!)) joinedUntil = Math.max(joinedUntil, index - 1 + plan.reach);
        if (index <= joinedUntil) continue;
        if (plan.starts.has(before) && shapedTogether(script, text.slice(starts[index - 1], starts[index]), text.slice(starts[index], starts[index + 1]))) continue;
      }
      runs.push(pieceOf(script, text.slice(starts[from], starts[index])));
      from = index;
    }
    if (runs.length === 1) return runs[0];
    const joined: GlyphRun = { glyphs: [], positions: [], get advanceWidth() {
      let width = 0;
      for (const position of this.positions) width += position.xAdvance ?? 0;
      return width;
    } };
    for (const run of runs) {
      joined.glyphs.push(...run.glyphs);
      joined.positions.push(...run.positions);
    }
    return joined;
  };
}

/** The same glyphs and positions as the runs end to end. */
function sameRun(whole: GlyphRun, parts: GlyphRun[]): boolean {
  const glyphs = parts.flatMap((part) => part.glyphs);
  const positions = parts.flatMap((part) => part.positions);
  if (whole.glyphs.length !== glyphs.length || whole.positions.length !== positions.length) return false;
  return whole.glyphs.every((glyph, index) => glyph === glyphs[index]) && whole.positions.every((position, index) => samePosition(position, positions[index]!));
}

function samePosition(left: Record<string, number>, right: Record<string, number>): boolean {
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}
