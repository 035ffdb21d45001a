// Proves certificate types are data: the seven built in and a municipality's own are read by one
// checker that names what is wrong; options are narrowed by a municipality's limits, resolved with
// defaults, refused when unknown or not offered, and carried as text both ways; the tax year turns
// over on 1 June JST; and a certificate shows exactly the fields its options call for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUILT_IN_TYPES,
  CERTIFICATE_TYPES,
  fiscalYearLabel,
  formatOptions,
  latestFiscalYear,
  offeredOptions,
  parseCertificateTypeDefinition,
  parseOptionLimits,
  parseOptionsText,
  resolveOptions,
} from '../../core/certificate-types.ts';
import { AppError } from '../../core/errors.ts';
import { certificateContent, parseResidentRecord, type Resident } from '../../core/resident.ts';
import { JUKYO_HYOJI } from './certificate-type-fixture.ts';

const NOW = Date.parse('2026-11-27T10:00:00+09:00');

function refusedWith(work: () => unknown, kind: string, code: string): void {
  assert.throws(work, (error: unknown) => error instanceof AppError && error.kind === kind && error.code === code);
}

describe('certificate type definitions', () => {
  it('checks every built-in definition with the same checker a municipality’s own goes through', () => {
    for (const type of CERTIFICATE_TYPES) assert.deepEqual(parseCertificateTypeDefinition(JSON.parse(JSON.stringify(BUILT_IN_TYPES[type])), type), BUILT_IN_TYPES[type]);
    assert.deepEqual(parseCertificateTypeDefinition(JUKYO_HYOJI, 'offers[0].definition').title, '住居表示証明書');
  });

  const broken: Array<[string, unknown, RegExp]> = [
    ['no title', { ...JUKYO_HYOJI, title: '' }, /"title" must be 1 to 40 characters/],
    ['an unknown issuer', { ...JUKYO_HYOJI, issuedBy: 'prefecture' }, /"issuedBy" must be "residence" or "honseki"/],
    ['no fields', { ...JUKYO_HYOJI, fields: [] }, /"fields" must be a list of 1 to 40 fields/],
    ['a field from nowhere', { ...JUKYO_HYOJI, fields: [{ label: '血液型', source: 'bloodType' }] }, /fields\[0\]\.source must be one of name, kana/],
    ['a condition on no option', { ...JUKYO_HYOJI, fields: [{ label: '氏名', source: 'name', when: { option: 'colour', values: ['red'] } }] }, /fields\[0\]\.when\.option must name a choice option/],
    ['a condition on a value the option lacks', { ...JUKYO_HYOJI, fields: [{ label: '氏名', source: 'name', when: { option: 'householder', values: ['maybe'] } }] }, /fields\[0\]\.when\.values must be values of option "householder"/],
    ['a default not among the choices', { ...JUKYO_HYOJI, options: [{ ...JUKYO_HYOJI.options[0], default: 'maybe' }] }, /options\[0\]\.default must be one of its choices' values/],
    ['a repeated key', { ...JUKYO_HYOJI, options: [JUKYO_HYOJI.options[0], JUKYO_HYOJI.options[0]] }, /"options" repeat a key/],
    ['an option key every object has', { ...JUKYO_HYOJI, fields: [{ label: '氏名', source: 'name' }], options: [{ ...JUKYO_HYOJI.options[0], key: 'toString' }] }, /options\[0\]\.key must be .* not a name every object has/],
    ['an unknown field', { ...JUKYO_HYOJI, colour: 'red' }, /"colour" is not a field of a definition/],
  ];
  for (const [what, raw, message] of broken) {
    it(`refuses a definition with ${what}, naming where`, () => {
      assert.throws(
        () => parseCertificateTypeDefinition(raw, 'offers.json: [2].definition'),
        (error: unknown) => error instanceof AppError && error.code === 'type.bad_definition' && error.where === 'offers.json: [2].definition' && message.test(error.message),
      );
    });
  }
});

describe('certificate options', () => {
  const juminhyo = BUILT_IN_TYPES.juminhyo;

  it('narrows the options by the municipality’s limits and keeps a default that is offered', () => {
    const offered = offeredOptions(juminhyo, { myNumber: ['omitted'], household: ['all'] }, NOW);
    assert.deepEqual(offered.find((entry) => entry.key === 'myNumber')!.choices.map((choice) => choice.value), ['omitted']);
    assert.deepEqual(offered.find((entry) => entry.key === 'household'), { key: 'household', label: '世帯', choices: [{ value: 'all', label: '世帯全員' }], default: 'all' });
  });

  it('resolves a request: defaults for what is left out; an unknown option is bad input, a value not offered a refusal', () => {
    const offered = offeredOptions(juminhyo, { myNumber: ['omitted'] }, NOW);
    assert.deepEqual(resolveOptions(offered, { household: 'all' }), { household: 'all', relationship: 'shown', honseki: 'omitted', myNumber: 'omitted' });
    refusedWith(() => resolveOptions(offered, { myNumber: 'shown' }), 'refused', 'request.option_not_offered');
    refusedWith(() => resolveOptions(offered, { colour: 'red' }), 'input', 'request.option_unknown');
  });

  it('checks limits against the definition', () => {
    assert.deepEqual(parseOptionLimits({ myNumber: ['omitted'] }, juminhyo, 'x'), { myNumber: ['omitted'] });
    refusedWith(() => parseOptionLimits({ myNumber: ['hidden'] }, juminhyo, 'x'), 'input', 'type.bad_limits');
    refusedWith(() => parseOptionLimits({ colour: ['red'] }, juminhyo, 'x'), 'input', 'type.bad_limits');
    refusedWith(() => parseOptionLimits({ myNumber: [] }, juminhyo, 'x'), 'input', 'type.bad_limits');
  });

  it('writes options as key-ordered text and reads them back; refuses text that is not key=value pairs', () => {
    const text = formatOptions({ myNumber: 'omitted', household: 'all' });
    assert.equal(text, 'household=all;myNumber=omitted');
    assert.deepEqual(parseOptionsText(text), { household: 'all', myNumber: 'omitted' });
    assert.deepEqual(parseOptionsText(''), {});
    for (const bad of ['household', 'household=all;household=self', 'a=B', '=x', 'a=b;', '__proto__=x']) assert.equal(parseOptionsText(bad), undefined, bad);
    assert.deepEqual(parseOptionsText('toString=x;constructor=y'), { toString: 'x', constructor: 'y' });
  });

  it('turns the tax year over on 1 June JST, and names it in the era', () => {
    assert.equal(latestFiscalYear(Date.parse('2026-05-31T23:59:59+09:00')), 2025);
    assert.equal(latestFiscalYear(Date.parse('2026-05-31T15:00:00Z')), 2026);
    assert.deepEqual([fiscalYearLabel(2026), fiscalYearLabel(2019), fiscalYearLabel(2018)], ['令和8年度', '令和元年度', '平成30年度']);
    const years = offeredOptions(BUILT_IN_TYPES['shotoku-kazei'], undefined, NOW)[0]!;
    assert.deepEqual(years.choices.map((choice) => choice.value), ['2026', '2025', '2024', '2023', '2022']);
    assert.equal(years.default, '2026');
  });
});

describe('what a certificate shows with its options', () => {
  const resident: Resident = {
    residentId: 'R950',
    municipalityCode: '131016',
    status: 'active',
    supportMeasure: false,
    name: '髙﨑 一郎',
    kana: 'たかさき いちろう',
    birthDate: '1980-04-12',
    sex: '男',
    address: '東京都千代田区一番町1番地1',
    householder: '髙﨑 一郎',
    relationship: '世帯主',
    residentSince: '2010-04-01',
    honseki: '東京都千代田区一番町1番地',
    myNumber: '123456789012',
    household: [{ name: '髙﨑 𠮷子', kana: 'たかさき よしこ', birthDate: '1982-09-23', sex: '女', relationship: '妻' }],
    taxableIncomeYen: 5_200_000,
    residentTaxYen: 312_000,
    taxYears: [{ fiscalYear: 2025, taxableIncomeYen: 4_900_000, residentTaxYen: 290_000 }],
  };
  const base = { resident, mayorTitle: '千代田区長', municipalityCode: '131016', requestId: 'req-9', kioskId: 'K0001', copies: 1, atMs: NOW, issuedOnText: '令和8年11月27日' };
  const labels = (type: string, options: Record<string, string>) => certificateContent({ ...base, type, options }).fields.map((field) => `${field.label}:${field.value}`);

  it('says under the title which options were chosen away from their defaults, and the tax year always', () => {
    const text = (type: string, options: Record<string, string>) => certificateContent({ ...base, type, options }).optionsText;
    assert.equal(text('juminhyo', {}), undefined);
    assert.equal(text('juminhyo', { household: 'all', honseki: 'shown' }), '世帯全員／本籍・筆頭者 記載');
    assert.equal(text('shotoku-kazei', {}), '令和8年度');
  });

  it('lists every member of the household for 世帯全員, and only the resident otherwise', () => {
    const all = labels('juminhyo', { household: 'all' });
    assert.ok(all.includes('世帯員2 氏名:髙﨑 𠮷子') && all.includes('続柄:妻'), all.join(' '));
    assert.ok(!labels('juminhyo', {}).some((field) => field.startsWith('世帯員')));
  });

  it('shows 本籍・筆頭者 and 個人番号 only when asked, and drops 世帯主・続柄 when asked', () => {
    assert.deepEqual(labels('juminhyo', { honseki: 'shown', relationship: 'omitted', myNumber: 'shown' }).slice(5), ['住民となった日:2010年4月1日', '本籍:東京都千代田区一番町1番地', '筆頭者:髙﨑 一郎', '個人番号:123456789012']);
    assert.ok(!labels('juminhyo', {}).some((field) => field.startsWith('個人番号') || field.startsWith('本籍')));
  });

  it('gives the tax year chosen: the latest from the flat figures, an earlier one from taxYears, none without a record', () => {
    assert.deepEqual(labels('shotoku-kazei', {}).slice(-3), ['年度:令和8年度', '総所得金額:5,200,000円', '市町村民税額:312,000円']);
    assert.deepEqual(labels('shotoku-kazei', { fiscalYear: '2025' }).slice(-3), ['年度:令和7年度', '総所得金額:4,900,000円', '市町村民税額:290,000円']);
    refusedWith(() => labels('shotoku-kazei', { fiscalYear: '2024' }), 'refused', 'certificate.not_on_record');
    refusedWith(() => labels('shotoku-kazei', { fiscalYear: '2027' }), 'refused', 'request.option_not_offered');
  });

  it('refuses a certificate the record has no data for, naming the field and not the person', () => {
    const { honseki: _honseki, ...withoutHonseki } = resident;
    assert.throws(
      () => certificateContent({ ...base, resident: withoutHonseki, type: 'koseki-zenbu' }),
      (error: unknown) => error instanceof AppError && error.code === 'certificate.not_on_record' && error.message.includes('本籍') && !error.message.includes('髙﨑'),
    );
  });

  it("reads a back end's household, tax years and 個人番号, and refuses malformed ones by field name only", () => {
    const record = JSON.parse(JSON.stringify(resident));
    assert.deepEqual(parseResidentRecord(record), resident);
    for (const [field, value, where] of [
      ['myNumber', '12345', 'myNumber'],
      ['household', [{ name: '𠮷子', kana: 'よしこ', birthDate: '1982-02-30', sex: '女', relationship: '妻' }], 'household[0].birthDate'],
      ['household', [{ name: '𠮷子', kana: 'よしこ', birthDate: '1982-02-03', sex: '女', relationship: '妻', pin: '1234' }], 'household[0].pin'],
      ['taxYears', [{ fiscalYear: 2025, taxableIncomeYen: -1, residentTaxYen: 0 }], 'taxYears[0].taxableIncomeYen'],
    ] as const) {
      assert.throws(
        () => parseResidentRecord({ ...record, [field]: value }),
        (error: unknown) => error instanceof AppError && error.where === where && !error.message.includes('𠮷子') && !error.message.includes('1234'),
        where,
      );
    }
  });
});
