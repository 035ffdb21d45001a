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
    'resident 0 juminhyo, 1 copy': ['b9337b71d40e3e4c086c3d0000c3edab58f984ebec9da11423a16b771e7f268b'],
    'resident 1 inkan, 3 copies': [
      '4d10efd7434915a3b64e69d501ee94be33c87c92ce54856054e8de89796474f9',
      '70ac5f0335c1efb604c307d1f8467aedf3f8cbd4712c93225f820d0d8ac4ed33',
      '0787e43e8855340c87675a8dd0f8336f38d1dc16f244432b7d21f8fe66931ff1',
    ],
    'resident 2 koseki-zenbu, 1 copy': ['29f4b71e0e9da4d29a5bf4e12d020700d58cb207ae873569f44b54d04acffe76'],
    'three pages, 2 copies': ['17be92587aceb180ad7d9993153a0eb5cdad36d80d39574a0de27b499168c08a', '05d12c28f0fda19bfe8c5f1a0fc6efee312a72ff0a191d660c55632c82385f4e'],
  },
  // Bun 1.4.5
  '12731092979c6d07f42da27da673a9f6c7b13586': {
    'resident 0 juminhyo, 1 copy': ['9f05fd9697d53a26164b405e7c40e65f7f7baa285a141f1fd04fe87dfe106cca'],
    'resident 1 inkan, 3 copies': [
      '7db50c7a3cea57e9abbad82702b8764b14f69234917eca7ec988d93cdb08a795',
      '497b80107086ab2ccf6f114500a41cc0d7a960c76a8c4587c8ad32a2aae71d8e',
      '1534db4332284b724262da412adfa2bacf10563db25f42a40e92bca0978ccc34',
    ],
    'resident 2 koseki-zenbu, 1 copy': ['a1e2334360c250107c0b19a613be13b70832f7dac22d2dbebbfb01270e7332cb'],
    'three pages, 2 copies': ['55b3e879d5ecdaa472ec81f1ea668d57b28e879973173599d04efafac710ee2e', '201af49f7ecbe077783804cc47cb180f98820b16fdb2d0f5de6ae9f7d4b27492'],
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
