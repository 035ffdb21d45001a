// The bytes of certificates from the template, pinned: a change to drivers/pdf/ meant only to make
// rendering cheaper must leave every byte as it was. Two hashes per file: one of the file with each
// stream inflated, offsets and lengths left out, which is the same on Node and Bun (their zlib
// builds compress differently); and one of the file as it is, for the zlib builds it was taken with.
// If the runtime's zlib is another build, only the first is checked. After a change that is meant
// to alter the files, print the new hashes with CVS_ISSUE_PRINT_HASHES=1 and review them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { fixtureMunicipalities, fixtureResidents } from '../../../cmd/fixtures.ts';
import { certificateContent } from '../../../core/resident.ts';
import { renderCertificatePdf, type CertificateDocument } from '../../../drivers/pdf/certificate-pdf.ts';

const atMs = Date.UTC(2026, 10, 27, 5, 0, 0);

function contentFor(residentIndex: number, type: string, copies: number): CertificateDocument {
  const { resident } = fixtureResidents()[residentIndex]!;
  const municipality = fixtureMunicipalities().find((candidate) => candidate.code === resident.municipalityCode)!;
  return certificateContent({ resident, type, mayorTitle: municipality.mayorTitle, municipalityCode: municipality.code, requestId: `REQ-20261127-${String(residentIndex).padStart(6, '0')}`, kioskId: 'K-0001', copies, atMs, issuedOnText: '令和8年11月27日' });
}

/** Three pages of wrapping values, names with 髙, 﨑 and 𠮷. */
function longContent(): CertificateDocument {
  const fields = [
    { label: '氏名', value: '髙﨑 𠮷太郎' },
    { label: '住所', value: '東京都千代田区千代田一丁目1番1号　濵栁ハイツ101号室　德瀨方'.repeat(3) },
    ...Array.from({ length: 36 }, (_, index) => ({ label: `備考${index + 1}`, value: `髙﨑 𠮷${index + 1}　令和3年4月1日 東京都港区芝公園四丁目2番8号から転入` })),
  ];
  return { ...contentFor(0, 'juminhyo', 2), fields };
}

/** The file with every stream replaced by the hash of its inflated bytes (the QR blank, stored raw, by its own), without lengths and offsets. */
function inflatedForm(pdf: Uint8Array): string {
  const text = Buffer.from(pdf).toString('latin1');
  const parts: string[] = [];
  let at = 0;
  for (const match of text.matchAll(/<< ([^\n]*?)\/Length (\d+) >>\nstream\n/g)) {
    const start = match.index + match[0].length;
    const bytes = pdf.subarray(start, start + Number(match[2]));
    const body = match[1]!.includes('/FlateDecode') ? inflateSync(bytes) : bytes;
    parts.push(text.slice(at, match.index), `<< ${match[1]}>>\nstream sha256:${createHash('sha256').update(body).digest('hex')}`);
    at = start + bytes.length;
  }
  const rest = text.slice(at);
  parts.push(rest.slice(0, rest.indexOf('\nxref\n')), rest.slice(rest.indexOf('\ntrailer\n'), rest.indexOf('\nstartxref\n')));
  return parts.join('');
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

const documents: { name: string; document: () => CertificateDocument }[] = [
  { name: 'resident 0 juminhyo, 1 copy', document: () => contentFor(0, 'juminhyo', 1) },
  { name: 'resident 1 inkan, 3 copies', document: () => contentFor(1, 'inkan', 3) },
  { name: 'resident 2 koseki-zenbu, 1 copy', document: () => contentFor(2, 'koseki-zenbu', 1) },
  { name: 'three pages, 2 copies', document: longContent },
];

/** Per document, per copy: the inflated form's hash, the same on every runtime. */
const INFLATED: Record<string, string[]> = {
  'resident 0 juminhyo, 1 copy': ['1632be17331dea09ab21c5d3499fdd08fdf109d7e0006c29facd90ad2fa39e6b'],
  'resident 1 inkan, 3 copies': [
    '56e6c6b43b0e9fe0dc456a8f613dd8cc36ba3d7bf11fa85b6297d72874afb7a5',
    'd119c4974cf7f6e79a31e9c28f21db4c8b57f32cec4f9f5d5f81a44ddac4dec2',
    'd67a0beae97778e05a7d9aa4df89e8e61254931200777b1f17f4aee18ee5dd9e',
  ],
  'resident 2 koseki-zenbu, 1 copy': ['b542ffe8f8b9d6891e7052802f5f88c9c4538f13029834eebacd14cd3226c139'],
  'three pages, 2 copies': ['fed46c19a9804718962e54fd2e7e98150a9b809767111060c32a2f094ce9fe21', 'e1ffac9e883703c18af5fef694c86873c64d9acf12862c7e42fd6e76552b34a0'],
};

/** Per zlib build (process.versions.zlib), per document, per copy: the file's own hash. */
const FILES: Record<string, Record<string, string[]>> = {
  // Node 20.20.2
  '1.3.1-e00f703': {
    'resident 0 juminhyo, 1 copy': ['64e06c506a284182ed9e8937c507b60f7f88fb7a8e31350fa498508c9f57b538'],
    'resident 1 inkan, 3 copies': [
      'b97d457e55d2b62ce59ac654e05029531aced5c2b00076a48abf6b4f91788e25',
      '0a80d90921209926491a8b53f2b4a6c23052c6ab74b97a957923c52960eab736',
      '4793d7e9b25b71e20821bed682f9b4473f1e0b09075e55ae877de8efb3794cd7',
    ],
    'resident 2 koseki-zenbu, 1 copy': ['19fd325925125f9addb796c219383b1c243984c60b4feae364a60e265438f0ee'],
    'three pages, 2 copies': ['6cb1660512ea397c0f3f401d1c3f1e985f2d4fb6825c6a4936daeca1904b2053', '20d57950a8ea0edae23f349587b7deb5421ca1b51cc8f9217a3a001b37da554b'],
  },
  // Bun 1.4.5
  '12731092979c6d07f42da27da673a9f6c7b13586': {
    'resident 0 juminhyo, 1 copy': ['ae5c3f50884ecad75b3f2f9625ab4852154220de93d28863d4919913ec6f57a5'],
    'resident 1 inkan, 3 copies': [
      '6283cfa99104131b3fbfb953fe739287f515189233414fd5f7473ad0bf1583e9',
      '67a6bc6e0f2c22e6c6991345fd973b8a3a8ac77f169665d54eec5e014c38dd91',
      'cc7e06d355c8f08097227015ce56f3135b12001e7f1121614b3655ed94e66187',
    ],
    'resident 2 koseki-zenbu, 1 copy': ['2d614665a944edd02324bec2e2abcbc3fc88571f5f5af4c90c88a9499428fe32'],
    'three pages, 2 copies': ['639c60a02df85b459c0a58d09d480845c1d0923cd2aefa0b2d8eb057386e7987', 'b0f26399bc40b75eb184eaa4b1807e49799dd8be58556936bf6fe64dfea2e85f'],
  },
};

describe('certificate bytes from the template', () => {
  for (const { name, document } of documents) {
    it(`are as pinned for ${name}`, async () => {
      const pdfs = await renderCertificatePdf(document());
      const inflated = pdfs.map((pdf) => sha256(inflatedForm(pdf)));
      const files = pdfs.map((pdf) => sha256(pdf));
      if (process.env.CVS_ISSUE_PRINT_HASHES === '1') process.stdout.write(`${JSON.stringify({ zlib: process.versions.zlib, name, inflated, files })}\n`);
      assert.deepEqual(inflated, INFLATED[name], 'the files, streams inflated');
      const pinned = FILES[process.versions.zlib ?? '']?.[name];
      if (pinned !== undefined) assert.deepEqual(files, pinned, `the files as zlib ${process.versions.zlib} compresses them`);
    });
  }
});
