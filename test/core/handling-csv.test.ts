// Proves the interchange-format row parser accepts good rows, puts them in the right JST month (Z times at the boundary included) and names every kind of malformed row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certificateTypeAt, createRowScratch, formatMonth, handlingHeaderColumns, HANDLING_CSV_HEADER, isHandlingHeader, parseHandlingRow, parseMonth, RowProblems } from '../../core/handling-csv.ts';

const encoder = new TextEncoder();
const good = ['I0001', '2026-11-02T10:15:00+09:00', 'OP001', 'S0001', 'K0001', '131016', 'juminhyo', '2', '400'];

function parse(fields: string[] | Uint8Array) {
  const bytes = fields instanceof Uint8Array ? fields : encoder.encode(fields.join(','));
  const row = createRowScratch();
  const problem = parseHandlingRow(bytes, 0, bytes.length, row);
  return { problem, row };
}

function withField(index: number, value: string): string[] {
  return good.map((field, position) => (position === index ? value : field));
}

describe('parseHandlingRow', () => {
  it('reads a good row: JST month, day, code, type, copies and fee', () => {
    const { problem, row } = parse(good);
    assert.equal(problem, undefined);
    assert.equal(formatMonth(row.monthKey), '2026-11');
    assert.deepEqual([row.jstDay, row.municipalityCode, row.typeIndex, row.copies, row.feeYen], [2, 131016, 0, 2, 400]);
  });

  it("reads a municipality's own type code, the same index each time, and tells it from the standard ones", () => {
    const first = parse(withField(6, 'jukyo-kisai-x')).row.typeIndex;
    assert.ok(first >= 7);
    assert.equal(certificateTypeAt(first), 'jukyo-kisai-x');
    assert.equal(parse(withField(6, 'jukyo-kisai-x')).row.typeIndex, first);
    assert.notEqual(parse(withField(6, 'jukyo-kisai-y')).row.typeIndex, first);
    assert.equal(parse(withField(6, 'inkan')).row.typeIndex, 2);
  });

  it('reads the tenth column, certificate_options, in a file whose header has it, and refuses one that is not key=value pairs', () => {
    const ten = (options: string) => {
      const bytes = encoder.encode([...good, options].join(','));
      const row = { ...createRowScratch(), columns: 10 };
      return parseHandlingRow(bytes, 0, bytes.length, row);
    };
    assert.equal(ten('household=all;honseki=shown'), undefined);
    assert.equal(ten(''), undefined);
    assert.match(ten('household') ?? 'accepted', /certificate_options "household" is not key=value pairs/);
    assert.match(ten('a=b,c') ?? 'accepted', /expected 10 columns, found 11/);
    assert.match(parse([...good, 'household=all']).problem ?? 'accepted', /expected 9 columns, found 10/);
    const header = encoder.encode(`${HANDLING_CSV_HEADER},certificate_options`);
    assert.equal(handlingHeaderColumns(header, 0, header.length), 10);
    assert.equal(handlingHeaderColumns(header, 0, header.length - 1), 0);
  });

  it('puts 2026-10-31T15:00:00Z in November and 2026-10-31T14:59:59Z in October', () => {
    const november = parse(withField(1, '2026-10-31T15:00:00Z')).row;
    assert.deepEqual([formatMonth(november.monthKey), november.jstDay], ['2026-11', 1]);
    const october = parse(withField(1, '2026-10-31T14:59:59Z')).row;
    assert.deepEqual([formatMonth(october.monthKey), october.jstDay], ['2026-10', 31]);
    const newYear = parse(withField(1, '2026-12-31T15:00:00.000Z')).row;
    assert.equal(formatMonth(newYear.monthKey), '2027-01');
    const west = parse(withField(1, '2026-11-30T20:00-05:00')).row;
    assert.deepEqual([formatMonth(west.monthKey), west.jstDay], ['2026-12', 1]);
  });

  const malformed: Array<[string, string[] | Uint8Array, RegExp]> = [
    ['a bad date', withField(1, '2026-02-30T10:00:00+09:00'), /issued_at "2026-02-30T10:00:00\+09:00" is not an ISO 8601 time/],
    ['a date without offset', withField(1, '2026-11-02T10:15:00'), /issued_at .* is not an ISO 8601 time with an offset/],
    ['a certificate type that is not a code', withField(6, 'Passport'), /certificate_type "Passport" is not a type code/],
    ['a wrong check digit', withField(5, '131017'), /municipality_code "131017" has a wrong check digit/],
    ['a short municipality code', withField(5, '13101'), /municipality_code "13101" is not 6 digits/],
    ['negative copies', withField(7, '-1'), /copies "-1" is not a whole number/],
    ['non-integer copies', withField(7, '1.5'), /copies "1.5" is not a whole number/],
    ['a negative fee', withField(8, '-200'), /fee_yen "-200" is not a whole number/],
    ['a non-integer fee', withField(8, '200.0'), /fee_yen "200.0" is not a whole number/],
    ['a missing column', good.slice(0, 8), /expected 9 columns, found 8/],
    ['an extra column', [...good, 'x'], /expected 9 columns, found 10/],
    ['an empty id', withField(0, ''), /issuance_id is empty/],
    ['an id with a space', withField(0, 'I 1'), /issuance_id "I 1" is not 1–64/],
    ['bad UTF-8', new Uint8Array([...encoder.encode(good.join(',')), 0xff]), /bad encoding/],
    ['an overlong UTF-8 form', new Uint8Array([...encoder.encode(good.join(',').slice(0, -1)), 0xc0, 0x80]), /bad encoding/],
  ];
  for (const [what, fields, message] of malformed) {
    it(`rejects ${what}`, () => {
      assert.match(parse(fields).problem ?? 'accepted', message);
    });
  }

  it('accepts valid multi-byte UTF-8 only to reject it as an id, not as encoding', () => {
    assert.match(parse(withField(2, '事業者')).problem ?? '', /operator_id "事業者" is not 1–64/);
  });
});

describe('header, months and problem lists', () => {
  it('accepts the exact header, with or without a BOM, and nothing else', () => {
    const bytes = encoder.encode(HANDLING_CSV_HEADER);
    assert.equal(isHandlingHeader(bytes, 0, bytes.length), true);
    const bom = encoder.encode(`\uFEFF${HANDLING_CSV_HEADER}`);
    assert.equal(isHandlingHeader(bom, 0, bom.length), true);
    const other = encoder.encode(HANDLING_CSV_HEADER.replace('fee_yen', 'fee'));
    assert.equal(isHandlingHeader(other, 0, other.length), false);
  });

  it('parses months strictly', () => {
    assert.equal(parseMonth('2026-11'), 2026 * 12 + 10);
    assert.equal(parseMonth('2026-13'), undefined);
    assert.equal(parseMonth('2026-1'), undefined);
  });

  it('keeps the first problems and counts the rest', () => {
    const problems = new RowProblems(2);
    for (let line = 2; line <= 5; line += 1) problems.add(`x.csv:${line}`, 'bad');
    assert.deepEqual(problems.lines(), ['x.csv:2: bad', 'x.csv:3: bad', '… and 2 more malformed rows']);
  });
});
