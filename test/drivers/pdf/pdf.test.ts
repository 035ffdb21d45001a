// Proves certificates, void slips and receipts are real PDFs whose text (names with 髙﨑𠮷 included) is embedded in a Noto Serif JP subset, byte-identical for the same input.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../../core/errors.ts';
import {
  renderCertificatePdf,
  renderVoidNoticePdf,
  type CertificateDocument,
} from '../../../drivers/pdf/certificate-pdf.ts';
import { loadJapaneseFont } from '../../../drivers/pdf/font.ts';
import { formatYen, formatYenSuffix, renderReceiptPdf, type Receipt } from '../../../drivers/pdf/receipt-pdf.ts';
import { popplerMissing } from '../../poppler.ts';
import { sampleCertificate } from '../../certificate-document.ts';


const certificate = sampleCertificate({
  requestId: 'REQ-20261127-000123',
  copies: 1,
  fields: [
    { label: '氏名', value: '髙﨑 𠮷太郎' },
    { label: '生年月日', value: '昭和55年4月1日' },
    { label: '住所', value: '東京都千代田区千代田一丁目1番1号　濵栁ハイツ101号室　德瀨方' },
    { label: '世帯主', value: '髙﨑 𠮷太郎' },
    { label: '本籍', value: '東京都千代田区千代田一丁目1番' },
  ],
});

/** The one copy of a one-copy certificate. */
async function renderOne(document: CertificateDocument): Promise<Uint8Array> {
  const copies = await renderCertificatePdf(document);
  assert.equal(copies.length, 1);
  return copies[0]!;
}

const receipt: Receipt = {
  storeName: 'テストマート千代田店',
  storeId: 'S-1234',
  kioskId: 'K-0001',
  requestId: 'REQ-20261127-000123',
  certificateTitle: '住民票の写し',
  copies: 4,
  unitFeeYen: 300,
  feeYen: 1200,
  paidYen: 2000,
  changeYen: 800,
  issuedAtText: '令和8年11月27日 14:05',
  municipalityName: '千代田区長',
  createdAtMs: Date.UTC(2026, 10, 27, 5, 5, 0),
};

let directory = '';

before(() => {
  directory = mkdtempSync(join(tmpdir(), 'cvs-issue-pdf-'));
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

function textOf(pdf: Uint8Array): string {
  const result = spawnSync('pdftotext', ['-', '-'], { input: pdf, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

function fontsOf(pdf: Uint8Array, name: string): string {
  const path = join(directory, name);
  writeFileSync(path, pdf);
  const result = spawnSync('pdffonts', [path], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

function pageCountOf(pdf: Uint8Array): number {
  return Buffer.from(pdf).toString('latin1').match(/\/Type \/Page\b(?!s)/g)?.length ?? 0;
}

function assertOnlyNotoSerifSubset(fonts: string): void {
  const rows = fonts.trim().split('\n').slice(2);
  assert.equal(rows.length, 1, fonts);
  assert.match(rows[0] ?? '', /^[A-Z]{6}\+NotoSerifJP-Regular\s+CID TrueType\s+Identity-H\s+yes yes yes/);
}

describe('loadJapaneseFont', () => {
  it('returns the full Noto Serif JP TTF, read once', async () => {
    const font = await loadJapaneseFont();
    assert.deepEqual(Array.from(font.subarray(0, 4)), [0, 1, 0, 0]);
    assert.ok(font.length > 5_000_000, `only ${font.length} bytes: a sliced font would lack 𠮷`);
    assert.equal(await loadJapaneseFont(), font);
  });
});

describe('renderCertificatePdf', () => {
  it('renders a one-page PDF', async () => {
    const pdf = await renderOne(certificate);
    assert.equal(Buffer.from(pdf.subarray(0, 5)).toString('latin1'), '%PDF-');
    assert.equal(pageCountOf(pdf), 1);
  });

  it('embeds the title, the names with 髙﨑𠮷, the certification and the footer as text', { skip: popplerMissing }, async () => {
    const text = textOf(await renderOne(certificate));
    for (const expected of [
      '住民票の写し',
      '髙﨑 𠮷太郎',
      '濵栁ハイツ',
      '德瀨方',
      'この写しは、住民票の原本と相違ないことを証明する。',
      '令和8年11月27日',
      '千代田区長',
      '交付番号 REQ-20261127-000123',
      '端末番号 K-0001',
    ]) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
  });

  it('uses only an embedded Noto Serif JP subset', { skip: popplerMissing }, async () => {
    assertOnlyNotoSerifSubset(fontsOf(await renderOne(certificate), 'certificate.pdf'));
  });

  it('gives the same bytes for the same input and different bytes for another time', async () => {
    const first = await renderOne(certificate);
    const second = await renderOne(certificate);
    assert.deepEqual(Buffer.from(second), Buffer.from(first));
    const later = await renderOne({ ...certificate, createdAtMs: certificate.createdAtMs + 1000 });
    assert.notDeepEqual(Buffer.from(later), Buffer.from(first));
  });

  it('renders one PDF per copy, each page showing its serial and n/N, the rest the same', { skip: popplerMissing }, async () => {
    const fields = Array.from({ length: 40 }, (_, index) => ({ label: `続柄${index + 1}`, value: `髙﨑 𠮷${index + 1}` }));
    const serials = ['REQ-20261127-000123-1', 'REQ-20261127-000123-2'];
    const copies = await renderCertificatePdf({ ...certificate, fields, serials });
    assert.equal(copies.length, 2);
    const pages = copies.map(pageCountOf);
    assert.ok(pages[0]! >= 2 && pages[1] === pages[0], `${pages.join(', ')} pages`);
    copies.forEach((pdf, index) => {
      const mark = `証明書番号 ${serials[index]}（${index + 1}/2通）`;
      const pageTexts = textOf(pdf).split('\f').filter((page) => page.trim() !== '');
      assert.equal(pageTexts.length, pages[index], `copy ${index + 1}: pages`);
      pageTexts.forEach((page, pageIndex) => {
        assert.ok(page.includes(mark), `copy ${index + 1}, page ${pageIndex + 1}: missing ${mark}`);
        assert.ok(page.includes('髙﨑 𠮷'), `copy ${index + 1}, page ${pageIndex + 1}: the names`);
      });
      assert.ok(!textOf(pdf).includes(`${serials[1 - index]}（`), `copy ${index + 1} shows only its own serial`);
      assertOnlyNotoSerifSubset(fontsOf(pdf, `copy-${index + 1}.pdf`));
    });
    // Apart from its marks a copy reads as the other does.
    const withoutMarks = copies.map((pdf) => textOf(pdf).replace(/証明書番号 \S+（\d+\/2通）/g, ''));
    assert.equal(withoutMarks[1], withoutMarks[0]);
  });

  it('continues a long table on further pages, numbering them in the footer', async () => {
    const fields = Array.from({ length: 40 }, (_, index) => ({ label: `続柄${index + 1}`, value: `髙﨑 𠮷${index + 1}` }));
    const pdf = await renderOne({ ...certificate, fields });
    const pageCount = pageCountOf(pdf);
    assert.ok(pageCount >= 2, `${pageCount} pages`);
    if (!popplerMissing) {
      const text = textOf(pdf);
      assert.ok(text.includes('髙﨑 𠮷40'));
      assert.ok(text.includes(`${pageCount}／${pageCount}`));
    }
  });
});

describe('renderVoidNoticePdf', () => {
  it('prints 返金済・無効 with the request, kiosk, number of copies and every serial', { skip: popplerMissing }, async () => {
    const pdf = await renderVoidNoticePdf({ requestId: 'REQ-9', kioskId: 'K-7', serials: ['REQ-9-1', 'REQ-9-2'], createdAtMs: 0 });
    assert.equal(Buffer.from(pdf.subarray(0, 5)).toString('latin1'), '%PDF-');
    const text = textOf(pdf);
    for (const expected of ['返金済・無効', 'REQ-9', 'K-7', '2部', 'REQ-9-1（1/2通）', 'REQ-9-2（2/2通）']) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
  });
});

describe('renderReceiptPdf', () => {
  it('prints 領収書 with the fee, payment and change', { skip: popplerMissing }, async () => {
    const pdf = await renderReceiptPdf(receipt);
    assert.equal(Buffer.from(pdf.subarray(0, 5)).toString('latin1'), '%PDF-');
    const text = textOf(pdf);
    for (const expected of ['領収書', '¥1,200', '1,200円', '2,000円', '800円', '¥300 × 4通', 'REQ-20261127-000123', 'テストマート千代田店']) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
    assertOnlyNotoSerifSubset(fontsOf(pdf, 'receipt.pdf'));
  });

  it('prints a 32-character 交付番号 on one line, as it is', { skip: popplerMissing }, async () => {
    const requestId = '2e0770aface848ed9cd3a8376a3ddc15';
    const pdf = await renderReceiptPdf({ ...receipt, requestId });
    const laidOut = spawnSync('pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8' }).stdout;
    assert.match(laidOut, new RegExp(`交付番号\\s+${requestId}\\n`));
    assert.match(laidOut, /端末番号\s+K-0001\n/);
    // A value too long for one line even when set small is wrapped, not cut off.
    const storeName = 'とても長い名前のサンプルマート千代田区一番町二丁目三番地駅前通り南口店';
    const wrapped = textOf(await renderReceiptPdf({ ...receipt, storeName })).replace(/\s+/g, '');
    assert.ok(wrapped.includes(storeName), wrapped);
  });

  it('is 80 mm wide', async () => {
    const pdf = Buffer.from(await renderReceiptPdf(receipt)).toString('latin1');
    const width = Number(/\/MediaBox \[0 0 ([\d.]+) /.exec(pdf)?.[1]);
    assert.equal(Math.round((width / 72) * 25.4), 80);
  });

  it('refuses an amount that is not a whole number of yen', async () => {
    await assert.rejects(renderReceiptPdf({ ...receipt, changeYen: -1 }), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'pdf.bad_amount');
      return true;
    });
    await assert.rejects(renderReceiptPdf({ ...receipt, feeYen: 12.5 }), AppError);
  });
});

describe('formatYen', () => {
  it('groups thousands', () => {
    assert.deepEqual(
      [0, 300, 1200, 1234567].map((amount) => [formatYen(amount), formatYenSuffix(amount)]),
      [
        ['¥0', '0円'],
        ['¥300', '300円'],
        ['¥1,200', '1,200円'],
        ['¥1,234,567', '1,234,567円'],
      ],
    );
  });
});
