// Proves the command factory (cmd/factory.ts): each part is made when first asked for, so a malformed
// CVS_ISSUE_TIME fails only a command that reads the clock, with a usage error inside main's error
// handling; a caller's parts replace the real ones; a deployment is read once per directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { main } from '../../cmd/cvs-issue.ts';
import { renderWorkersFrom } from '../../cmd/center.ts';
import { createFactory } from '../../cmd/factory.ts';
import { loadConfig } from '../../cmd/config.ts';
import { acceptedCardKinds } from '../../core/jpki.ts';
import { bufferIo } from '../../cmd/io.ts';
import { AppError } from '../../core/errors.ts';
import { HANDLING_CSV_HEADER, formatHandlingRow } from '../../core/handling-csv.ts';
import { handlingRecord } from './cli-fixture.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-factory-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const BAD_TIME = { CVS_ISSUE_TIME: '2026-02-30T10:00:00+09:00' };

async function runWith(parts: Parameters<typeof main>[2], ...argv: string[]) {
  const io = bufferIo(Readable.from([]));
  const code = await main(argv, io, parts);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('command factory', () => {
  it('reads CVS_ISSUE_TIME only when the clock is read: the other parts work, the clock is a usage error', () => {
    const factory = createFactory(bufferIo(), { environment: BAD_TIME });
    assert.equal(factory.random.bytes(4).length, 4);
    assert.equal(factory.isHoliday('2027-01-01'), true);
    assert.ok(Math.abs(factory.wallClock.nowMs() - Date.now()) < 60_000, 'the wall clock ignores CVS_ISSUE_TIME');
    assert.throws(() => factory.clock.nowMs(), (error: unknown) => error instanceof AppError && error.kind === 'usage' && /CVS_ISSUE_TIME="2026-02-30/.test(error.message));
    assert.throws(() => factory.checkedClock(), (error: unknown) => error instanceof AppError && error.kind === 'usage');
  });

  it('starts the clock at CVS_ISSUE_TIME, running from there', () => {
    const factory = createFactory(bufferIo(), { environment: { CVS_ISSUE_TIME: '2026-11-30T10:00:00+09:00' } });
    const elapsed = factory.clock.nowMs() - Date.parse('2026-11-30T01:00:00Z');
    assert.ok(elapsed >= 0 && elapsed < 60_000, `${elapsed} ms`);
  });

  it('gives --help and a clock-free command their answer under a malformed CVS_ISSUE_TIME; a command that reads it exits 2 with one line', async () => {
    assert.equal((await runWith({ environment: BAD_TIME }, '--help')).code, 0);
    const records = path.join(dir, 'records.csv');
    fs.writeFileSync(records, `${HANDLING_CSV_HEADER}\n${formatHandlingRow(handlingRecord('A'))}`);
    const withMonth = await runWith({ environment: BAD_TIME }, 'reconcile', '--month', '2026-11', '--center-csv', records, '--operator-csv', records, '--json');
    // reconcile reads the clock for its deadline warnings: the bad time is reported, not crashed on.
    assert.equal(withMonth.code, 2, withMonth.stderr);
    assert.match(withMonth.stderr, /^cvs-issue: CVS_ISSUE_TIME="2026-02-30T10:00:00\+09:00" is not a real ISO 8601 time/);
    assert.equal(withMonth.stderr.trim().split('\n').length, 1);
  });

  it("uses the caller's clock instead of the process's: cron's previous month comes from it", async () => {
    const records = path.join(dir, 'october.csv');
    fs.writeFileSync(records, `${HANDLING_CSV_HEADER}\n${formatHandlingRow(handlingRecord('A', { issuedAt: '2026-10-15T01:00:00.000Z' }))}`);
    const clock = { nowMs: () => Date.parse('2026-11-01T00:30:00+09:00') };
    const result = await runWith({ clock, environment: BAD_TIME }, 'reconcile', '--center-csv', records, '--operator-csv', records, '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).month, '2026-10');
  });

  it('reads a deployment once per directory, and names the directory when there is none', () => {
    const factory = createFactory(bufferIo());
    assert.throws(() => factory.deployment(path.join(dir, 'nowhere')), (error: unknown) => error instanceof AppError && error.code === 'config.missing' && /nowhere/.test(error.summary()));
    const deployment = path.join(dir, 'deployment');
    fs.mkdirSync(deployment);
    fs.writeFileSync(path.join(deployment, 'cvs-issue.json'), JSON.stringify({ version: 1, center: {}, relays: [], kiosks: [], cardsDirectory: 'cards' }));
    const first = factory.deployment(deployment);
    fs.writeFileSync(path.join(deployment, 'cvs-issue.json'), 'not json');
    assert.equal(factory.deployment(deployment), first);
    assert.throws(() => createFactory(bufferIo()).deployment(deployment), (error: unknown) => error instanceof AppError && error.code === 'config.bad_json');
  });

  it('reads the smartphone-certificate policy: true or false, off when absent, anything else a usage error naming the field', () => {
    const deployment = path.join(dir, 'policy');
    fs.mkdirSync(deployment);
    const write = (extra: object) => fs.writeFileSync(path.join(deployment, 'cvs-issue.json'), JSON.stringify({ version: 1, center: {}, relays: [], kiosks: [], cardsDirectory: 'cards', ...extra }));
    write({});
    assert.deepEqual(acceptedCardKinds(loadConfig(deployment).config), ['my-number-card', 'juki-card']);
    write({ smartphoneCertificates: true });
    assert.deepEqual(acceptedCardKinds(loadConfig(deployment).config), ['my-number-card', 'juki-card', 'smartphone']);
    write({ smartphoneCertificates: 'yes' });
    assert.throws(() => loadConfig(deployment), (error: unknown) => error instanceof AppError && error.code === 'config.bad_policy' && error.kind === 'usage' && /smartphoneCertificates/.test(error.summary()));
  });
});

describe('CVS_ISSUE_RENDER_WORKERS', () => {
  it('sizes the centre\'s render pool: unset is the default, 0 to 16 as given, anything else a usage error naming it', () => {
    assert.equal(renderWorkersFrom({}), undefined);
    assert.equal(renderWorkersFrom({ CVS_ISSUE_RENDER_WORKERS: '' }), undefined);
    assert.equal(renderWorkersFrom({ CVS_ISSUE_RENDER_WORKERS: '0' }), 0);
    assert.equal(renderWorkersFrom({ CVS_ISSUE_RENDER_WORKERS: '16' }), 16);
    for (const value of ['17', '-1', '2.5', 'two', '999']) {
      assert.throws(() => renderWorkersFrom({ CVS_ISSUE_RENDER_WORKERS: value }), (error: unknown) => error instanceof AppError && error.kind === 'usage' && /^CVS_ISSUE_RENDER_WORKERS ".*" must be a whole number from 0 to 16$/.test(error.message), value);
    }
  });
});
