// An operator's accident report (core/incidents.ts, C§15): the first of an incident opens it and
// each later one updates or resolves it; ids, times and the summary's length are checked, and the
// wire form is read back by the same rules, the operator taken from the relay's certificate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf } from '../app-error.ts';
import { incidentBody, incidentReportFrom, parseIncidentReport, type IncidentReport } from '../../core/incidents.ts';

const report: IncidentReport = { incidentId: 'a'.repeat(32), sequence: 1, operatorId: 'OP01', kind: 'printing', status: 'open', occurredAt: '2026-12-01T01:00:00.000Z', kioskId: 'K0001', requestId: 'REQ-1', summary: '紙詰まり' };
const code = outcomeOf;

describe('incident reports', () => {
  it('open with the first report and update or resolve after it, never the other way round', () => {
    assert.equal(code(() => incidentReportFrom(report)), 'accepted');
    assert.equal(code(() => incidentReportFrom({ ...report, sequence: 2, status: 'update' })), 'accepted');
    assert.equal(code(() => incidentReportFrom({ ...report, sequence: 4, status: 'resolved' })), 'accepted');
    assert.equal(code(() => incidentReportFrom({ ...report, status: 'update' })), 'incident.invalid');
    assert.equal(code(() => incidentReportFrom({ ...report, sequence: 2, status: 'open' })), 'incident.invalid');
    assert.equal(code(() => incidentReportFrom({ ...report, sequence: 0 })), 'incident.invalid');
  });

  it('refuse an unknown kind, a bad id or time, and an empty or overlong summary', () => {
    for (const bad of [{ kind: 'fire' }, { incidentId: 'x' }, { kioskId: 'K 1' }, { requestId: '' }, { occurredAt: '2026-12-01 01:00' }, { occurredAt: '2026-13-01T01:00:00Z' }, { summary: '  ' }, { summary: 'あ'.repeat(401) }]) {
      assert.equal(code(() => incidentReportFrom({ ...report, ...bad })), 'incident.invalid', JSON.stringify(bad));
    }
    assert.equal(code(() => incidentReportFrom({ ...report, kioskId: null, requestId: null })), 'accepted');
  });

  it('travel without the operator, which the centre takes from the relay', () => {
    const body = incidentBody(report);
    assert.equal('operatorId' in body, false);
    assert.deepEqual(parseIncidentReport(body, 'OP01'), report);
    assert.equal(parseIncidentReport(body, 'OP02').operatorId, 'OP02');
    assert.equal(code(() => parseIncidentReport({ ...body, sequence: '1' }, 'OP01')), 'request.bad_field');
  });
});
