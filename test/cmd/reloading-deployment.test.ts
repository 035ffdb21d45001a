// Proves a running server's view of the deployment file (cmd/config.ts reloadingDeployment): it reads
// the file again only when it was replaced, sees two replacements a moment apart (a kiosk that joined
// right after another look was once refused for a second: found by the binary e2e), and keeps the
// last good copy when the file is broken.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, reloadingDeployment, writeConfig } from '../../cmd/config.ts';
import { freshDeployment } from './deployment-fixture.ts';

describe('the deployment as a running server sees it', () => {
  let dir: string;
  before(() => {
    dir = freshDeployment(fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-reload-')) + '/d');
  });
  after(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('reads the file again only when it was replaced, at once each time, and keeps the last good copy', () => {
    const loaded = loadConfig(dir);
    const deployment = reloadingDeployment(loaded);
    assert.equal(deployment.refreshed(), loaded, 'unchanged: the same copy');
    const withKiosk = (kioskId: string) => ({ ...loaded.config, kiosks: [...loaded.config.kiosks, { ...loaded.config.kiosks[0]!, kioskId }] });
    writeConfig(dir, withKiosk('K9001'));
    assert.ok(deployment.refreshed().config.kiosks.some((kiosk) => kiosk.kioskId === 'K9001'));
    writeConfig(dir, withKiosk('K9002'));
    assert.ok(deployment.refreshed().config.kiosks.some((kiosk) => kiosk.kioskId === 'K9002'), 'a second replacement a moment later is seen too');
    const good = deployment.current;
    fs.writeFileSync(path.join(dir, 'cvs-issue.json'), '{ "half": ');
    assert.equal(deployment.refreshed(), good, 'a broken file leaves the last good copy');
  });
});
