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
    'resident 0 juminhyo, 1 copy': ['8cc2a7e7c233254f89eb3e260aaca0407a7c1ae728b133383fa9f12f8a4e117a'],
    'resident 1 inkan, 3 copies': [
      '197bd6305adb142f7caa37f61c6257a10b43b1d78956205cdf7d355a95d80e26',
      'b2631eb0062274943ada38259374364f9ba717eb2cc70ae9185b4e9cbedf5fff',
      '6d046d1cc875570574ace8d015a3c72eb34410efb8df743254bf0b821dacafc6',
    ],
    'resident 2 koseki-zenbu, 1 copy': ['1f5e00844683694b04d34302331a3dc8d9072c81721a8d61221b7348a8eb6c8b'],
    'three pages, 2 copies': ['e99d80e4e758a8c99099232a1e4a7ee90c935f7b6b57418bf4f7b8e161480f2b', 'e2293a0dc2b6f090edef98da4001e9c5a14ef69b63a8b815c01aa2a58505de18'],
  },
  // Bun 1.4.5
  '12731092979c6d07f42da27da673a9f6c7b13586': {
    'resident 0 juminhyo, 1 copy': ['7019ebdc129931f5e3f1050c5b5aff03991e058c7df339fffe38e3206a46e98c'],
    'resident 1 inkan, 3 copies': [
      'c5c7ee09a1b69652285e0487da1e44a6bda8444c799e424ee9cbb3cd32bf206f',
      'fa8041b5bd609bf8c3a49d0509fe599800b43c401541a941d4b7ad9a2d9b898a',
      '2aa60a574ea7b3ddc225bb9a32a6b44256818ebd3f42fe0744057d1fc9d8704e',
    ],
    'resident 2 koseki-zenbu, 1 copy': ['5ce103c914455a33a0bd0a250600d5f7e3a1689e14d74dae6a9cd05a7d780d7d'],
    'three pages, 2 copies': ['7f061e7cac00c3d079f3eafe749642e372022260772610fd9cc21d3186dc860b', '9f839250163f684f13b9f0b8d75584be79136263a413bd2923df4f92dcb01bb3'],
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
