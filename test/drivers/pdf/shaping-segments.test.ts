// Proves that a text put together from pieces (drivers/pdf/shaping-segments.ts) is the run fontkit
// shapes for the whole text, glyph for glyph and position for position: for the values of a
// thousand synthetic residents and the fixture residents, and for random texts of kanji, kana,
// digits, Latin letters that kern and ligate (AV, fi, ffi) and punctuation; that the corpus holds
// texts whose glyphs do interact (so a cut anywhere would fail here); that texts the cut does not
// model go whole to fontkit; and that a font with lookups of another kind is not cut at all.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as fontkit from 'fontkit';
import { fixtureMunicipalities, fixtureResidents, syntheticResidents } from '../../../cmd/fixtures.ts';
import { segmentedShaper, segmentPlanOf, type GlyphRun, type Shape, type ShapedFace } from '../../../drivers/pdf/shaping-segments.ts';

const fontPath = createRequire(import.meta.url).resolve('@expo-google-fonts/noto-serif-jp/400Regular/NotoSerifJP_400Regular.ttf');
const fontBytes = readFileSync(fontPath);

type Face = ShapedFace & { layout: Shape };
const openFace = () => fontkit.create(fontBytes) as Face;

/** Glyph ids and positions, comparable across faces. */
function shapeOf(run: GlyphRun): { glyphs: number[]; positions: Record<string, number>[] } {
  return { glyphs: run.glyphs.map((glyph) => (glyph as { id: number }).id), positions: run.positions.map((position) => ({ ...position })) };
}

/** A seeded generator (mulberry32), so a failing text is found again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function residentTexts(): Set<string> {
  const texts = new Set<string>();
  const collect = (value: unknown) => {
    if (typeof value === 'string') {
      texts.add(value);
      // pdfkit shapes word by word, each word with the space after it.
      for (const word of value.split(/(?<=[ \t])/)) texts.add(word);
    } else if (value !== null && typeof value === 'object') {
      Object.values(value).forEach(collect);
    }
  };
  for (const { resident } of [...syntheticResidents(1000, fixtureMunicipalities()), ...fixtureResidents()]) collect(resident);
  for (const text of ['髙﨑 𠮷太郎', '東京都千代田区千代田一丁目1番1号　濵栁ハイツ101号室　德瀨方', '交付番号 ', 'REQ-20261127-000001', '　端末番号 K-0001　1／3', '証明書番号 ', '-1（1/2通）', '令和8年11月27日', '昭和45年（1970年）3月31日', 'か\u3099きく', 'はは\u309aは']) texts.add(text);
  return texts;
}

const ALPHABET = [...'0123456789-ー々（）()・、。「」／髙﨑𠮷田中山東京都港区丁目番号ABCDEFfilTVAWYoa.,:;!?あいうえおがぱアイウエオガパｱｲｳ１２３　 '];

function randomTexts(count: number, seed: number): string[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    let text = '';
    const length = 1 + Math.floor(next() * 14);
    for (let index = 0; index < length; index += 1) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
    // Now and then a ligature's whole run.
    return next() < 0.1 ? `${text}ffi` : text;
  });
}

describe('shaping text in pieces', () => {
  it("gives fontkit's run for the whole text, for residents' values and random texts, and the corpus has glyphs that interact", () => {
    const reference = openFace();
    const face = openFace();
    const shaped = segmentedShaper(face, face.layout.bind(face));
    let pieced = 0;
    let interacting = 0;
    for (const text of [...residentTexts(), ...randomTexts(4000, 20261202)]) {
      const run = shaped(text);
      if (run === undefined) continue;
      pieced += 1;
      const whole = shapeOf(reference.layout(text));
      assert.deepEqual(shapeOf(run), whole, JSON.stringify(text));
      // Each character shaped alone, end to end: where that differs, a cut between them would be wrong.
      const alone = [...text].map((character) => shapeOf(reference.layout(character)));
      const naive = { glyphs: alone.flatMap((part) => part.glyphs), positions: alone.flatMap((part) => part.positions) };
      if (JSON.stringify(naive) !== JSON.stringify(whole)) interacting += 1;
    }
    assert.ok(pieced > 5_000, `${pieced} texts put together from pieces`);
    assert.ok(interacting > 1_000, `${interacting} texts whose glyphs kern or ligate`);
  });

  it('shapes a text of known pieces without asking fontkit for the whole text', () => {
    const face = openFace();
    const asked: string[] = [];
    const shape: Shape = (text, features, script) => {
      asked.push(text);
      return face.layout(text, features, script);
    };
    const shaped = segmentedShaper(face, shape);
    shaped('東京都港区');
    asked.length = 0;
    const run = shaped('港区東京都');
    assert.ok(run !== undefined);
    assert.equal(asked.includes('港区東京都'), false);
    assert.deepEqual(shapeOf(run), shapeOf(openFace().layout('港区東京都')));
  });

  it('leaves to fontkit whole a text with a mark that attaches (not the dakuten, which ccmp joins to its kana), a variation selector, a fraction slash, a character the font lacks, or a script with a shaper of its own', () => {
    const face = openFace();
    const shaped = segmentedShaper(face, face.layout.bind(face));
    for (const text of ['e\u0301', '葛\u{e0100}城', '1\u20442', '\u0e01', 'مرحبا', '한국']) assert.equal(shaped(text), undefined, JSON.stringify(text));
    assert.ok(shaped('葛城') !== undefined);
  });

  it("does not cut a face whose default lookups include a chained context, or that has a kern table", () => {
    const face = openFace();
    assert.ok(segmentPlanOf(face, 'hani') !== undefined);
    const chained = {
      ...face,
      glyphForCodePoint: face.glyphForCodePoint.bind(face),
      GPOS: undefined,
      GSUB: {
        scriptList: [{ tag: 'DFLT', script: { defaultLangSys: { featureIndexes: [0] } } }],
        featureList: [{ tag: 'calt', feature: { lookupListIndexes: [0] } }],
        lookupList: { get: () => ({ lookupType: 6, flags: {}, subTables: [{ coverage: { glyphs: [1] } }] }) },
      },
    } as ShapedFace;
    assert.equal(segmentPlanOf(chained, 'hani'), undefined);
    assert.equal(segmentPlanOf({ ...chained, GSUB: undefined, kern: {} }, 'hani'), undefined);
    // The same table, with the lookup under a feature fontkit does not apply by default: cut as usual.
    const optional = { ...chained, GSUB: { ...chained.GSUB!, featureList: [{ tag: 'jp78', feature: { lookupListIndexes: [0] } }] } } as ShapedFace;
    assert.ok(segmentPlanOf(optional, 'hani') !== undefined);
  });

  it('keeps a ligature of three whose pairs do not interact, and the glyph it kerns with after it, in one piece', () => {
    // A made-up face: x y z form the ligature L (a liga lookup starting at x), and L kerns with k;
    // no two of them shaped alone as a pair differ from each glyph alone.
    const ids: Record<string, number> = { x: 1, y: 2, z: 3, k: 4 };
    const face: ShapedFace = {
      glyphForCodePoint: (codePoint) => ({ id: ids[String.fromCodePoint(codePoint)] ?? 0 }),
      GSUB: {
        scriptList: [{ tag: 'latn', script: { defaultLangSys: { featureIndexes: [0] } } }],
        featureList: [{ tag: 'liga', feature: { lookupListIndexes: [0] } }],
        lookupList: { get: () => ({ lookupType: 4, flags: {}, subTables: [{ coverage: { glyphs: [1] }, ligatureSets: [[{ glyph: 9, components: [2, 3] }]] }] }) },
      },
    };
    const glyphObjects = new Map<number, { id: number }>();
    const glyph = (id: number) => glyphObjects.get(id) ?? glyphObjects.set(id, { id }).get(id)!;
    const shape: Shape = (text, _features, script) => {
      const glyphs = text.replaceAll('xyz', 'L').split('').map((character) => glyph(character === 'L' ? 9 : ids[character]!));
      const positions = glyphs.map((entry, index) => ({ xAdvance: entry.id === 9 ? (glyphs[index + 1]?.id === 4 ? 900 : 1000) : 500, yAdvance: 0, xOffset: 0, yOffset: 0 }));
      return { glyphs, positions, advanceWidth: positions.reduce((sum, position) => sum + position.xAdvance, 0), script: script ?? 'latn' };
    };
    const plan = segmentPlanOf(face, 'latn');
    assert.equal(plan?.reach, 3);
    const shaped = segmentedShaper(face, shape);
    for (const text of ['xyzk', 'kxyzk', 'xyxyzk', 'xykz']) assert.deepEqual(shapeOf(shaped(text)!), shapeOf(shape(text)), text);
  });

  it('leaves to fontkit whole a text with a glyph a default substitution may turn into a mark', () => {
    // A made-up face: locl turns x (1) into the mark 5 (GDEF class 3), which would attach to the glyph before it.
    const face: ShapedFace = {
      glyphForCodePoint: (codePoint) => ({ id: ({ x: 1, y: 2 } as Record<string, number>)[String.fromCodePoint(codePoint)] ?? 0 }),
      GDEF: { glyphClassDef: { startGlyph: 0, classValueArray: [0, 1, 1, 1, 1, 3] } },
      GSUB: {
        scriptList: [{ tag: 'latn', script: { defaultLangSys: { featureIndexes: [0] } } }],
        featureList: [{ tag: 'locl', feature: { lookupListIndexes: [0] } }],
        lookupList: { get: () => ({ lookupType: 1, flags: {}, subTables: [{ coverage: { glyphs: [1] }, substitute: [5] }] }) },
      },
    };
    assert.deepEqual([...segmentPlanOf(face, 'latn')!.whole], [1]);
    const shape: Shape = (text, _features, script) => ({ glyphs: [...text].map((character) => ({ id: character.charCodeAt(0) })), positions: [...text].map(() => ({ xAdvance: 500, yAdvance: 0, xOffset: 0, yOffset: 0 })), advanceWidth: 500 * text.length, script: script ?? 'latn' });
    const shaped = segmentedShaper(face, shape);
    assert.equal(shaped('yx'), undefined);
    assert.ok(shaped('yy') !== undefined);
  });
});
