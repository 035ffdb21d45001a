// Proves a certificate from the recorded template reads and looks as pdfkit's own document of it does: the same pdftotext text (pages included) and pixels, for every fixture resident (髙, 𠮷 …) and every type, long wrapping values and multi-page tables, every copy with its own serial and n/N, with one embedded Noto Serif JP subset.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fixtureMunicipalities, fixtureResidents } from '../../../cmd/fixtures.ts';
import { CERTIFICATE_TYPES } from '../../../core/certificate-types.ts';
import { typesOnRecord } from '../../certificate-document.ts';
import { certificateContent } from '../../../core/resident.ts';
import { renderCertificatePdf, type CertificateDocument } from '../../../drivers/pdf/certificate-pdf.ts';
import { popplerMissing } from '../../poppler.ts';

let directory = '';

before(() => {
  directory = mkdtempSync(join(tmpdir(), 'cvs-issue-template-'));
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

function poppler(program: string, args: string[], input?: Uint8Array): string {
  const result = spawnSync(program, args, { input, encoding: 'utf8' });
  assert.equal(result.status, 0, `${program}: ${result.stderr}`);
  assert.equal(result.stderr, '', `${program} complained`);
  return result.stdout;
}

function textOf(pdf: Uint8Array): string {
  return poppler('pdftotext', ['-', '-'], pdf);
}

/** pdftotext ends every page with a form feed, so its text gives the page count without pdfinfo. */
function pageCountOfText(text: string): number {
  return text.split('\f').length - 1;
}


/** Every page as pdftoppm draws it at 40 dpi, as raw pixel files. */
function pixelsOf(pdf: Uint8Array, name: string): Buffer[] {
  const path = join(directory, `${name}.pdf`);
  writeFileSync(path, pdf);
  poppler('pdftoppm', ['-r', '40', path, join(directory, name)]);
  return readdirSync(directory)
    .filter((file) => file.startsWith(`${name}-`) && file.endsWith('.ppm'))
    .sort()
    .map((file) => readFileSync(join(directory, file)));
}

function fontsOf(pdf: Uint8Array, name: string): string[] {
  const path = join(directory, `${name}.pdf`);
  writeFileSync(path, pdf);
  return poppler('pdffonts', [path]).trim().split('\n').slice(2);
}

/** Renders both ways and checks every copy's text and pages agree, and pixels if asked; returns the template's PDFs. */
async function assertSameAsPdfkit(document: CertificateDocument, name: string, comparePixels = true): Promise<Uint8Array[]> {
  const references = await renderCertificatePdf(document, 'pdfkit');
  const templates = await renderCertificatePdf(document, 'template');
  assert.equal(templates.length, references.length, `${name}: copies`);
  templates.forEach((template, copy) => {
    const reference = references[copy]!;
    const label = `${name} copy ${copy + 1}`;
    const text = textOf(template);
    assert.equal(text, textOf(reference), `${label}: text`);
    assert.ok(pageCountOfText(text) >= 1, `${label}: no page`);
    if (!comparePixels) return;
    const expectedPixels = pixelsOf(reference, `${name}-${copy}-pdfkit`);
    const actualPixels = pixelsOf(template, `${name}-${copy}-template`);
    assert.equal(actualPixels.length, expectedPixels.length, `${label}: pages drawn`);
    actualPixels.forEach((pixels, index) => assert.ok(pixels.equals(expectedPixels[index]!), `${label}: page ${index + 1} looks different`));
  });
  return templates;
}

/** The one copy of a one-copy certificate. */
async function renderOne(document: CertificateDocument): Promise<Uint8Array> {
  const copies = await renderCertificatePdf(document);
  assert.equal(copies.length, 1);
  return copies[0]!;
}

const issuedAtMs = Date.UTC(2026, 10, 27, 5, 0, 0);

function contentFor(residentIndex: number, type: (typeof CERTIFICATE_TYPES)[number], copies = 1): CertificateDocument {
  const { resident } = fixtureResidents()[residentIndex]!;
  const municipality = fixtureMunicipalities().find((candidate) => candidate.code === resident.municipalityCode)!;
  return certificateContent({
    resident,
    type,
    mayorTitle: municipality.mayorTitle,
    municipalityCode: municipality.code,
    requestId: `REQ-20261127-${String(residentIndex).padStart(6, '0')}`,
    kioskId: 'K-0001',
    copies,
    atMs: issuedAtMs,
    issuedOnText: '令和8年11月27日',
  });
}

describe('certificates from the template', { skip: popplerMissing }, () => {
  it('has residents whose names need 髙 and 𠮷 among the fixtures', () => {
    const names = fixtureResidents().map(({ resident }) => resident.name);
    assert.ok(names.some((name) => name.includes('髙')) && names.some((name) => name.includes('𠮷')), names.join(' '));
  });

  // Every type for the first resident; two types each for the others, so that every resident's
  // name (each needs glyphs such as 髙, 𠮷, 﨑) and every type is compared more than once. All
  // seventy pairs spawned some 300 poppler processes, most of the suite's CPU (issue 9).
  const typesFor = (index: number) => {
    const types = typesOnRecord(fixtureResidents()[index]!.resident);
    return index === 0 ? types : [types[index % types.length]!, types[(index + 3) % types.length]!];
  };
  for (const [index, { resident }] of fixtureResidents().entries()) {
    it(`reads, paginates and looks as pdfkit draws it for resident ${resident.residentId}, ${index === 0 ? 'every certificate type' : 'two certificate types'}`, async () => {
      for (const [typeIndex, type] of typesFor(index).entries()) {
        // Pixels for one type per resident: drawing every page twice is most of the test's time.
        await assertSameAsPdfkit(contentFor(index, type), `r${index}-${type}`, typeIndex === (index === 0 ? 0 : 1));
      }
    });
  }

  it('wrap long values and continue a long table over pages as pdfkit does, each of two copies with its own serial', async () => {
    const base = contentFor(0, 'juminhyo', 2);
    const fields = [
      { label: '氏名', value: '髙﨑 𠮷太郎' },
      { label: '住所', value: '東京都千代田区千代田一丁目1番1号　濵栁ハイツ101号室　德瀨方'.repeat(3) },
      ...Array.from({ length: 36 }, (_, index) => ({ label: `備考${index + 1}`, value: `髙﨑 𠮷${index + 1}　令和3年4月1日 東京都港区芝公園四丁目2番8号から転入` })),
    ];
    const copies = await assertSameAsPdfkit({ ...base, fields }, 'long');
    assert.equal(copies.length, 2);
    copies.forEach((pdf, copy) => {
      const text = textOf(pdf);
      const pages = pageCountOfText(text);
      assert.ok(pages >= 3, `${pages} pages`);
      assert.ok(text.includes('髙﨑 𠮷36'));
      assert.ok(text.includes(`${pages}／${pages}`));
      assert.equal(text.split(`${base.serials[copy]}（${copy + 1}/2通）`).length - 1, pages, 'the serial and n/N on every page');
    });
  });

  it('embed one Noto Serif JP subset with a ToUnicode map, its glyphs those of this certificate', async () => {
    const pdf = await renderOne({ ...contentFor(1, 'juminhyo'), fields: [{ label: '氏名', value: '﨑𠮷' }] });
    const rows = fontsOf(pdf, 'fonts');
    assert.equal(rows.length, 1, rows.join('\n'));
    assert.match(rows[0]!, /^[A-Z]{6}\+NotoSerifJP-Regular\s+CID TrueType\s+Identity-H\s+yes yes yes/);
    const other = fontsOf(await renderOne({ ...contentFor(1, 'juminhyo'), fields: [{ label: '氏名', value: '髙' }] }), 'fonts-other');
    assert.notEqual(other[0]!.slice(0, 6), rows[0]!.slice(0, 6), 'another subset, another tag');
  });

  it('give each of several certificates rendered at once its own text and the bytes it gets alone', async () => {
    const documents = [contentFor(0, 'juminhyo'), contentFor(1, 'inkan'), contentFor(2, 'koseki-zenbu')];
    const alone: Uint8Array[] = [];
    for (const document of documents) alone.push(await renderOne(document));
    const together = await Promise.all(documents.map((document) => renderOne(document)));
    together.forEach((pdf, index) => assert.ok(Buffer.from(pdf).equals(Buffer.from(alone[index]!)), `document ${index}`));
    assert.ok(textOf(together[1]!).includes(documents[1]!.fields[0]!.value));
  });

  it('compress every stream but the QR blank, the font file with its reused part, as zlib streams whose checksums hold', async () => {
    // Same layout, other residents: the fixed text's glyph records come from the cache each time.
    for (const document of [contentFor(0, 'juminhyo'), { ...contentFor(0, 'juminhyo'), fields: [{ label: '氏名', value: '髙﨑 𠮷' }] }, contentFor(0, 'juminhyo')]) {
      const pdf = Buffer.from(await renderOne(document));
      const all = [...pdf.toString('latin1').matchAll(/<< ([^\n]*?)\/Length (\d+) >>\nstream\n/g)];
      // The one stream stored raw: the QR code's blank, filled in place by the centre (docs/documents.md).
      assert.equal(all.filter((match) => match[1]!.includes('/ImageMask true') && !match[1]!.includes('/Filter')).length, 1, 'the QR blank');
      const streams = all.filter((match) => !match[1]!.includes('/ImageMask true')).map((match) => pdf.subarray(match.index + match[0].length, match.index + match[0].length + Number(match[2])));
      assert.ok(streams.length >= 4, `${streams.length} streams`);
      const inflated = streams.map((stream) => inflateSync(stream));
      assert.ok(inflated.some((bytes) => bytes.readUInt32BE(0) === 0x00010000), 'a TrueType font file among them');
    }
  });
});
