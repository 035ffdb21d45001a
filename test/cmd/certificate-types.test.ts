// Proves certificate types and options are data end to end (C§22: the types are the municipality's
// to set): a running deployment's municipality takes a type no code knows, from a definition in its
// offers file, and a limit on an option; without a restart the kiosk's menu offers it, a scripted
// resident chooses its option, the certificate PDF prints its title, fields and options, and the
// issuance is recorded and exported under its code. A value the limit leaves out is refused, and a
// broken definition is refused in one line with exit 2, changing nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../cmd/config.ts';
import { openKiosk, runScriptedSessions } from '../../cmd/kiosk.ts';
import { listHandlingRecords } from '../../drivers/store/center-store.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { spawnSync } from 'node:child_process';
import { popplerMissing } from '../poppler.ts';
import { JUKYO_HYOJI } from '../core/certificate-type-fixture.ts';
import { run } from './cli-fixture.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';

describe("a municipality's own certificate type and option limits", () => {
  let service: RunningService;
  before(async () => {
    service = await runningService('cvs-types-');
  });
  after(async () => service?.close());

  const offersFile = (name: string, offers: unknown) => {
    const file = path.join(service.dir, name);
    fs.writeFileSync(file, JSON.stringify(offers));
    return file;
  };
  const definitionOf = async () => {
    const listed = JSON.parse((await run('center', 'municipality', 'list', '--dir', service.dir, '--json')).stdout) as { municipalities: { code: string; types: unknown[] }[] };
    return JSON.stringify(listed.municipalities.find((entry) => entry.code === '131016'));
  };

  it('refuses a broken definition, a type without one and a limit on no option, in one line with exit 2, changing nothing', async () => {
    const before = await definitionOf();
    for (const [offers, limit, message] of [
      [[{ type: 'jukyo-hyoji', unitFeeYen: 150, definition: { ...JUKYO_HYOJI, issuedBy: 'prefecture' } }], [], /\[0\]\.definition: the type definition's "issuedBy" must be/],
      [[{ type: 'jukyo-hyoji', unitFeeYen: 150 }], [], /type "jukyo-hyoji" is not one of juminhyo, .*: give its definition/],
      [[{ type: 'juminhyo', unitFeeYen: 300 }], ['--limit', 'juminhyo.colour=red'], /--limit: the offer's limits name "colour", which is not an option of the type/],
      [[{ type: 'juminhyo', unitFeeYen: 300 }], ['--limit', 'inkan.household=all'], /--limit names inkan, which is not offered/],
    ] as const) {
      const refused = await run('center', 'municipality', 'update', '--dir', service.dir, '--code', '131016', '--offers-file', offersFile('broken.json', offers), ...limit);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /^cvs-issue: [^\n]+\n$/);
      assert.match(refused.stderr, message);
    }
    assert.equal(await definitionOf(), before);
  });

  it('issues the new type with the option chosen, through the running centre, and refuses a value the limit leaves out', async () => {
    const file = offersFile('offers.json', [
      { type: 'juminhyo', unitFeeYen: 200 },
      { type: 'jukyo-hyoji', unitFeeYen: 150, definition: JUKYO_HYOJI },
    ]);
    const updated = await run('center', 'municipality', 'update', '--dir', service.dir, '--code', '131016', '--offers-file', file, '--limit', 'juminhyo.myNumber=omitted', '--json');
    assert.equal(updated.code, 0, updated.stderr);
    const definition = JSON.parse(updated.stdout) as { offers: { type: string; limits?: unknown }[] };
    assert.deepEqual(definition.offers.map((offer) => [offer.type, offer.limits ?? null]), [['juminhyo', { myNumber: ['omitted'] }], ['jukyo-hyoji', null]]);

    const loaded = loadConfig(service.dir);
    const printed = loaded.resolve(loaded.config.kiosks.find((entry) => entry.kioskId === 'K0001')!.printerDirectory);
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: service.relay.server.url, clock: service.clock });
    let requestId = '';
    try {
      const [issued, refused] = await runScriptedSessions(kiosk, loaded, [
        { card: 'card-r001', pins: ['1234'], certificateType: 'jukyo-hyoji', options: { householder: 'shown' }, copies: 2, cash: [500] },
        { card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', options: { myNumber: 'shown' }, copies: 1, cash: [500] },
      ]);
      assert.equal(issued!.result.outcome, 'issued', JSON.stringify(issued!.result));
      requestId = (issued!.result as { requestId: string }).requestId;
      assert.deepEqual(refused!.result, { outcome: 'refused', code: 'request.option_not_offered', wrongPins: 0 });
      assert.equal((await kiosk.flushOutbox()).pending, 0);
    } finally {
      await kiosk.close();
    }
    const certificate = fs.readdirSync(printed).filter((name) => name.includes(requestId) && name.endsWith('.pdf')).sort()[0];
    assert.ok(certificate, `a printed copy of ${requestId} in ${fs.readdirSync(printed).join(', ')}`);
    const text = spawnSync('pdftotext', ['-enc', 'UTF-8', path.join(printed, certificate), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, '');
    if (!popplerMissing) for (const expected of ['住居表示証明書', '世帯主記載', '新住所', '上記のとおり住居表示が実施されたことを証明する。']) assert.ok(text.includes(expected), `${expected} in ${text.slice(0, 200)}`);

    const recorded = withDatabase(path.join(service.dir, 'center.db'), (db) => listHandlingRecords(db).filter((record) => record.issuanceId === requestId));
    assert.deepEqual(recorded.map((record) => [record.certificateType, record.copies, record.feeYen]), [['jukyo-hyoji', 2, 300]]);
    const exported = await run('center', 'export', '--dir', service.dir, '--month', monthOf(service.clock.nowMs()), '--out', path.join(service.dir, 'export.csv'));
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(fs.readFileSync(path.join(service.dir, 'export.csv'), 'utf8'), new RegExp(`^${requestId},.*,131016,jukyo-hyoji,2,300$`, 'm'));

    // With its options as a tenth column; reconcile reads it beside the relay's nine-column export.
    const withOptions = path.join(service.dir, 'export-options.csv');
    assert.equal((await run('center', 'export', '--dir', service.dir, '--month', monthOf(service.clock.nowMs()), '--with-options', '--out', withOptions)).code, 0);
    const written = fs.readFileSync(withOptions, 'utf8');
    assert.ok(written.startsWith('issuance_id,issued_at,operator_id,store_id,kiosk_id,municipality_code,certificate_type,copies,fee_yen,certificate_options\n'));
    assert.match(written, new RegExp(`^${requestId},.*,jukyo-hyoji,2,300,householder=shown$`, 'm'));
    const operatorCsv = path.join(service.dir, 'relay.csv');
    assert.equal((await run('relay', 'export', '--dir', service.dir, '--out', operatorCsv)).code, 0);
    const reconciled = await run('reconcile', '--month', monthOf(service.clock.nowMs()), '--center-csv', withOptions, '--operator-csv', operatorCsv, '--json');
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
    const report = JSON.parse(reconciled.stdout) as { matched: number; differences: unknown[] };
    assert.deepEqual([report.matched >= 1, report.differences], [true, []]);

    // The invoice names the type by the municipality's title.
    const invoice = await run('invoice', '--dir', service.dir, '--month', monthOf(service.clock.nowMs()), '--operator', 'OP01');
    assert.equal(invoice.code, 0, invoice.stderr);
    assert.match(invoice.stdout, /住居表示証明書/);
  });
});

function monthOf(epochMs: number): string {
  return new Date(epochMs + 9 * 3_600_000).toISOString().slice(0, 7);
}
