// Proves who may use a kiosk (age 15 from the birthday itself, active, no 支援措置, name of at most 30 characters counted as code points) and what each certificate type says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_TYPES, CERTIFICATE_TYPES, type StandardCertificateType } from '../../core/certificate-types.ts';
import { AppError } from '../../core/errors.ts';
import { ageOn, assertEligible, certificateContent, type Resident } from '../../core/resident.ts';

const at = (iso: string) => Date.parse(iso);

const resident: Resident = {
  residentId: 'R900',
  municipalityCode: '131016',
  honsekiCode: '372013',
  status: 'active',
  supportMeasure: false,
  name: '𠮷田 花子',
  kana: 'よしだ はなこ',
  birthDate: '2011-11-02',
  sex: '女',
  address: '東京都千代田区九段南1丁目2番1号',
  householder: '𠮷田 正',
  relationship: '子',
  residentSince: '2011-11-20',
  honseki: '香川県高松市番町1丁目8番地',
  headOfFamily: '𠮷田 正',
  sealRegistrationNumber: '131016-00999',
  taxableIncomeYen: 1234567,
  residentTaxYen: 89000,
};

function refusalCode(candidate: Resident, atMs: number): string | undefined {
  try {
    assertEligible(candidate, atMs);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.kind, 'refused');
    assert.ok(!error.message.includes(candidate.name), 'a refusal never names the person');
    return error.code;
  }
}

describe('ageOn', () => {
  it('counts a year on the birthday itself, by the JST date', () => {
    assert.equal(ageOn('2011-11-02', at('2026-11-02T00:00:00+09:00')), 15);
    assert.equal(ageOn('2011-11-02', at('2026-11-01T23:59:59+09:00')), 14);
    // 15:00Z on 11-01 is already 11-02 in Japan.
    assert.equal(ageOn('2011-11-02', at('2026-11-01T15:00:00Z')), 15);
  });

  it('handles birthdays in a later month and earlier in the same month', () => {
    assert.equal(ageOn('2011-12-01', at('2026-11-30T12:00:00+09:00')), 14);
    assert.equal(ageOn('2011-11-01', at('2026-11-30T12:00:00+09:00')), 15);
  });
});

describe('assertEligible', () => {
  it('lets a resident who turns 15 today use the kiosk', () => {
    assert.equal(refusalCode(resident, at('2026-11-02T10:00:00+09:00')), undefined);
  });

  it('refuses the day before the 15th birthday', () => {
    assert.equal(refusalCode(resident, at('2026-11-01T10:00:00+09:00')), 'resident.under_age');
  });

  it('refuses a resident who moved out', () => {
    assert.equal(refusalCode({ ...resident, status: 'moved-out' }, at('2026-11-02T10:00:00+09:00')), 'resident.moved_out');
  });

  it('refuses a record under 支援措置 (DV and stalking protection)', () => {
    assert.equal(refusalCode({ ...resident, supportMeasure: true }, at('2026-11-02T10:00:00+09:00')), 'resident.support_measure');
  });

  it('counts 𠮷 as one character: 30 fit, 31 do not', () => {
    const thirty = '𠮷'.repeat(30);
    assert.equal(thirty.length, 60, 'each 𠮷 is two UTF-16 code units');
    assert.equal(refusalCode({ ...resident, name: thirty }, at('2026-11-02T10:00:00+09:00')), undefined);
    assert.equal(refusalCode({ ...resident, name: `${thirty}子` }, at('2026-11-02T10:00:00+09:00')), 'resident.name_too_long');
  });
});

describe('certificateContent', () => {
  const base = {
    resident,
    mayorTitle: '千代田区長',
    municipalityCode: '131016',
    requestId: 'req-1',
    kioskId: 'kiosk-1',
    copies: 2,
    atMs: at('2026-11-27T10:15:00+09:00'),
    issuedOnText: '令和8年11月27日',
  };

  it('writes a 住民票の写し with every field the resident sees', () => {
    assert.deepEqual(certificateContent({ ...base, type: 'juminhyo' }), {
      title: '住民票の写し',
      municipalityName: '千代田区長',
      fields: [
        { label: '氏名', value: '𠮷田 花子' },
        { label: 'ふりがな', value: 'よしだ はなこ' },
        { label: '生年月日', value: '2011年11月2日' },
        { label: '性別', value: '女' },
        { label: '住所', value: '東京都千代田区九段南1丁目2番1号' },
        { label: '世帯主', value: '𠮷田 正' },
        { label: '続柄', value: '子' },
        { label: '住民となった日', value: '2011年11月20日' },
      ],
      certifiedText: 'この写しは、住民票の原本と相違ないことを証明する。',
      issuedOnText: '令和8年11月27日',
      requestId: 'req-1',
      kioskId: 'kiosk-1',
      municipalityCode: '131016',
      certificateType: 'juminhyo',
      serials: ['req-1-1', 'req-1-2'],
      createdAtMs: base.atMs,
    });
  });

  const labelsByType: Record<StandardCertificateType, string[]> = {
    juminhyo: ['氏名', 'ふりがな', '生年月日', '性別', '住所', '世帯主', '続柄', '住民となった日'],
    'juminhyo-kisai': ['氏名', 'ふりがな', '生年月日', '性別', '住所', '世帯主', '続柄', '住民となった日'],
    inkan: ['氏名', 'ふりがな', '生年月日', '住所', '登録番号'],
    'koseki-zenbu': ['本籍', '筆頭者', '氏名', 'ふりがな', '生年月日', '性別'],
    'koseki-kojin': ['本籍', '筆頭者', '氏名', 'ふりがな', '生年月日', '性別'],
    fuhyo: ['本籍', '氏名', 'ふりがな', '生年月日', '住所', '住所を定めた日'],
    'shotoku-kazei': ['氏名', 'ふりがな', '生年月日', '住所', '年度', '総所得金額', '市町村民税額'],
  };

  for (const type of CERTIFICATE_TYPES) {
    it(`titles ${type} ${BUILT_IN_TYPES[type].title} and uses its labels`, () => {
      const content = certificateContent({ ...base, type });
      assert.equal(content.title, BUILT_IN_TYPES[type].title);
      assert.deepEqual(
        content.fields.map((field) => field.label),
        labelsByType[type],
      );
      assert.ok(content.certifiedText.endsWith('。'));
    });
  }

  it('prints amounts in yen with thousands separators on a tax certificate', () => {
    const fields = certificateContent({ ...base, type: 'shotoku-kazei' }).fields.slice(-2);
    assert.deepEqual(fields, [
      { label: '総所得金額', value: '1,234,567円' },
      { label: '市町村民税額', value: '89,000円' },
    ]);
  });

  it('puts the 本籍 and 筆頭者 on a 戸籍 certificate', () => {
    const fields = certificateContent({ ...base, type: 'koseki-zenbu' }).fields.slice(0, 2);
    assert.deepEqual(fields, [
      { label: '本籍', value: '香川県高松市番町1丁目8番地' },
      { label: '筆頭者', value: '𠮷田 正' },
    ]);
  });
});
