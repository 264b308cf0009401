import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config/app-config.js';
import { startSimNets, type RunningSimNets } from '../../src/sim-nets/sim-nets.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { CHROMIUM, CHROMIUM_ARGS, foreignRequests, openTab, WAIT } from './console-tab.js';

const ROOT = process.cwd();
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

const row = (page: Page, jobId: string) => page.locator(`tr[data-job-id="${jobId}"]`);

describe('the console in a real browser', () => {
  let db: TestDatabase;
  let fakeNet: FakeNet;
  let simNets: RunningSimNets;
  let hub: TestHub;
  let browser: Browser;
  let origin: string;
  let scenario: Scenario;
  const jobs: { followed: string; running: string; queued: string; waiting: string; models: Record<string, string> } = {
    followed: '',
    running: '',
    queued: '',
    waiting: '',
    models: {},
  };

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-console.ts'], { cwd: ROOT, stdio: 'pipe' });
    db = await createTestDatabase();
    fakeNet = await startFakeNet({ clients: ['site-1', 'site-2'] });
    // one simulated net beside the fake one, as `npm start` would start it; its runs outlast the test
    simNets = await startSimNets(
      {
        ...loadConfig({}),
        simNets: 1,
        simNetTrainMs: 600_000,
        kitSlots: ['site-1', 'site-2'],
        netEndpoints: [{ name: 'net-1', endpoint: fakeNet.url }],
      },
      () => undefined,
    );
    const { netEndpoints, kitSlots, simNets: simNetCount } = simNets.config;
    hub = await startTestHub(db.url, { netEndpoints, kitSlots, simNets: simNetCount });
    await hub.app.listen(0, '127.0.0.1');
    const address = hub.app.getHttpServer().address() as { port: number };
    origin = `http://127.0.0.1:${address.port}`;
    scenario = await createScenario(hub, 2);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await simNets?.close();
    await fakeNet?.close();
    await db?.drop();
  });

  it('as an admin: signs in from the URL fragment and follows a job live from QUEUED to COMPLETED', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const tab = await openTab(context);
    const { page } = tab;
    await page.goto(`${origin}/#token=${await testToken(['admin'])}`);
    await page.waitForSelector('[data-connection="live"]', WAIT);
    await page.waitForSelector('.console[data-loaded="yes"]', WAIT);
    expect(page.url()).toBe(`${origin}/`); // the token left the address bar
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));

    // the nets, the simulated one labelled
    await page.waitForSelector('tr[data-net="net-1"][data-state="AVAILABLE"]', WAIT);
    await expect(page.locator('tr[data-net="sim-net-1"] .badge.simulated').textContent()).resolves.toBe('simulated');
    await expect(page.locator('tr[data-net="net-1"] .badge.simulated').count()).resolves.toBe(0);
    await page.waitForSelector('[data-empty="queue"]', WAIT);

    // three jobs queued through GraphQL (automatic pickup is off, so they wait)
    for (const key of ['followed', 'running', 'queued'] as const) {
      const modelId = await scenario.newModel(`model ${key}`);
      jobs.models[key] = modelId;
      jobs[key] = await scenario.queue(modelId);
    }
    await row(page, jobs.followed).and(page.locator('[data-status="QUEUED"]')).waitFor(WAIT);
    await expect(row(page, jobs.queued).locator('[data-col="position"]').textContent()).resolves.toBe('3');
    await expect(row(page, jobs.followed).locator('[data-col="model"]').textContent()).resolves.toBe('model followed');

    // one cycle starts the two oldest on the two nets
    await hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    await page.locator(`tr[data-job-id="${jobs.followed}"][data-status="IN_PROGRESS"]`).waitFor(WAIT);
    await page.locator(`tr[data-job-id="${jobs.running}"][data-status="IN_PROGRESS"]`).waitFor(WAIT);
    await page.waitForSelector('tr[data-net="net-1"][data-state="BUSY"]', WAIT);
    await page.waitForSelector('tr[data-net="sim-net-1"][data-state="BUSY"]', WAIT);
    // the page re-reads positions after the claims: wait for the queue to show it first, not for one read to be late enough
    await row(page, jobs.queued).locator('[data-col="position"]', { hasText: /^1$/ }).waitFor(WAIT);
    const netOfFollowed = await row(page, jobs.followed).locator('[data-col="net"]').textContent();
    expect(['net-1', 'sim-net-1']).toContain(netOfFollowed);

    // the net reports it done
    await hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { status } }', { m: jobs.models.followed });
    await page.locator(`[data-table="ended"] tr[data-job-id="${jobs.followed}"][data-status="COMPLETED"]`).waitFor(WAIT);
    await page.waitForSelector(`tr[data-net="${netOfFollowed}"][data-state="AVAILABLE"]`, WAIT);

    // what an admin may do on each row, and on the hub
    await expect(row(page, jobs.running).locator('[data-action="stop"]').count()).resolves.toBe(1);
    await expect(row(page, jobs.queued).locator('[data-action="remove"]').count()).resolves.toBe(1);
    await expect(row(page, jobs.followed).locator('button').count()).resolves.toBe(0);
    await expect(page.locator('[data-action="deployment"]').count()).resolves.toBe(1);
    await expect(page.locator('[data-latency]').textContent()).resolves.toMatch(/over 2 started jobs in view: p50 \d/);

    // drain asks first and shows the net drained; a resume made elsewhere (GraphQL) reaches the page live
    const free = page.locator(`tr[data-net="${netOfFollowed}"]`);
    await free.locator('[data-action="drain"]').click();
    await page.locator('[role="dialog"]').waitFor(WAIT);
    await page.locator('[data-confirm]').click();
    await page.locator(`tr[data-net="${netOfFollowed}"][data-drained="yes"]`).waitFor(WAIT);
    await expect(free.locator('[data-col="drained"]').textContent()).resolves.toBe('drained');
    const { nets } = await hub.gqlOk<{ nets: Array<{ id: string; name: string; drained: boolean }> }>(
      '{ nets { id name drained } }',
    );
    const drained = nets.find((n) => n.name === netOfFollowed);
    expect(drained?.drained).toBe(true);
    await hub.gqlOk('mutation($id: ID!) { resumeNet(netId: $id) { drained } }', { id: drained?.id });
    await page.locator(`tr[data-net="${netOfFollowed}"][data-drained="no"]`).waitFor(WAIT);
    await expect(free.locator('[data-action="drain"]').count()).resolves.toBe(1);

    // a destructive action asks first: cancelled, nothing happens; confirmed, the job leaves the queue
    await row(page, jobs.queued).locator('[data-action="remove"]').click();
    await page.locator('[role="dialog"]').waitFor(WAIT);
    await page.locator('[data-cancel]').click();
    await expect(page.locator('[role="dialog"]').count()).resolves.toBe(0);
    await expect(row(page, jobs.queued).getAttribute('data-status')).resolves.toBe('QUEUED');
    await row(page, jobs.queued).locator('[data-action="remove"]').click();
    await page.locator('[data-confirm]').click();
    await page.locator(`[data-table="ended"] tr[data-job-id="${jobs.queued}"][data-status="DELETED"]`).waitFor(WAIT);
    const { job } = await hub.gqlOk('query($id: ID!) { job(id: $id) { status } }', { id: jobs.queued });
    expect(job.status).toBe('DELETED');
    // why each job ended, in words
    const ended = page.locator('[data-table="ended"]');
    await expect(ended.locator(`tr[data-job-id="${jobs.queued}"] [data-col="endReason"]`).textContent()).resolves.toBe(
      'removed from the queue',
    );
    await expect(ended.locator(`tr[data-job-id="${jobs.followed}"] [data-col="endReason"]`).textContent()).resolves.toBe(
      'completed',
    );

    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(tab.problems).toEqual([]);
    expect(foreignRequests(tab, origin)).toEqual([]);
    expect(tab.requests.some((url) => url.startsWith('ws://'))).toBe(true);
    await context.close();
  });

  it('as an admin: the queue in dispatch order with its reasons in words; holds, limits and shares from the page', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const tab = await openTab(context);
    const { page } = tab;
    await page.goto(`${origin}/#token=${await testToken(['admin'])}`);
    await page.waitForSelector('.console[data-loaded="yes"]', WAIT);
    await page.waitForSelector('[data-connection="live"]', WAIT);

    // one net runs `running`, the other is free; two jobs queued, the older at LOW, the younger at HIGH
    const queueWith = async (name: string, priority: string) => {
      const { queueTraining } = await hub.gqlOk<{ queueTraining: { id: string } }>(
        'mutation($m: ID!, $t: [ID!]!, $p: JobPriority) { queueTraining(modelId: $m, trustIds: $t, options: { priority: $p }) { id } }',
        { m: await scenario.newModel(name), t: scenario.trustIds, p: priority },
      );
      return queueTraining.id;
    };
    const low = await queueWith('model low', 'LOW');
    const high = await queueWith('model high', 'HIGH');
    const position = (jobId: string, at: number) =>
      row(page, jobId)
        .locator('[data-col="position"]', { hasText: new RegExp(`^${at}$`) })
        .waitFor(WAIT);
    const reason = (jobId: string, code: string) =>
      row(page, jobId).locator(`[data-col="reason"] [data-reason="${code}"]`).waitFor(WAIT);
    const pageOrder = () =>
      page
        .locator('[data-table="queue"] tbody tr[data-job-id]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')));
    const hubOrder = async () => {
      const { jobs: queued } = await hub.gqlOk<{ jobs: Array<{ id: string; queuePosition: number }> }>(
        '{ jobs(status: QUEUED) { id queuePosition } }',
      );
      return [...queued].sort((a, b) => a.queuePosition - b.queuePosition).map((j) => j.id);
    };

    // dispatch order: the HIGH one first though it is younger, as the hub ranks them
    await position(high, 1);
    await position(low, 2);
    await expect(pageOrder()).resolves.toEqual([high, low]);
    await expect(hubOrder()).resolves.toEqual([high, low]);
    await reason(low, 'WAITING_FOR_NET');
    await expect(row(page, low).locator('[data-col="reason"] .reason').textContent()).resolves.toBe('waiting for a free net');
    await expect(row(page, low).locator('[data-col="priority"] select').inputValue()).resolves.toBe('LOW');

    // the priority control: LOW raised to URGENT goes to the front
    await row(page, low).locator('select[data-action="priority"]').selectOption('URGENT');
    await position(low, 1);
    await position(high, 2);
    await expect(pageOrder()).resolves.toEqual([low, high]);
    await expect(hubOrder()).resolves.toEqual([low, high]);

    // a hold asks first, then the held trust's jobs wait and say so
    const [heldId, limitedId] = scenario.trustIds;
    const heldTrust = page.locator(`tr[data-trust-id="${heldId}"]`);
    await heldTrust.locator('[data-action="hold"]').click();
    await page.locator('[role="dialog"]').waitFor(WAIT);
    await page.locator('[data-confirm]').click();
    await page.locator(`tr[data-trust-id="${heldId}"][data-held="yes"]`).waitFor(WAIT);
    await expect(heldTrust.locator('[data-col="hold"]').textContent()).resolves.toBe('on hold until released');
    await reason(low, 'TRUST_HELD');
    await reason(high, 'TRUST_HELD');
    await expect(row(page, low).locator('[data-col="reason"] .reason').textContent()).resolves.toBe('a trust is on hold');
    const held = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(
      'mutation { runPickupCycle { started { id } } }',
    );
    expect(held.runPickupCycle.started).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'console.png'), fullPage: true });

    await heldTrust.locator('[data-action="release"]').click();
    await page.locator(`tr[data-trust-id="${heldId}"][data-held="no"]`).waitFor(WAIT);
    await reason(low, 'WAITING_FOR_NET');

    // a limit from the page: the other trust already runs `running`, so 1 keeps both jobs waiting
    const limitedTrust = page.locator(`tr[data-trust-id="${limitedId}"]`);
    await limitedTrust.locator('[data-action="trust-limit"]').click();
    await page.locator('[role="dialog"] input[name="limit"]').fill('1');
    await page.locator('[data-confirm]').click();
    await limitedTrust.locator('[data-col="running"]', { hasText: /^1 of 1$/ }).waitFor(WAIT);
    await reason(low, 'TRUST_AT_CAPACITY');
    await expect(row(page, low).locator('[data-col="reason"] .reason').textContent()).resolves.toBe('a trust is at its limit');
    const limited = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(
      'mutation { runPickupCycle { started { id } } }',
    );
    expect(limited.runPickupCycle.started).toEqual([]);
    // lifted over GraphQL: the trust and the reasons follow live
    await hub.gqlOk('mutation($t: ID!) { setTrustLimit(trustId: $t, maxConcurrentJobs: null) { id } }', { t: limitedId });
    await limitedTrust.locator('[data-col="running"]', { hasText: /^1 \(no limit\)$/ }).waitFor(WAIT);
    await reason(low, 'WAITING_FOR_NET');

    // a share from the page; a bad one is refused in words first and changes nothing
    const project = page.locator(`tr[data-project-id="${scenario.projectId}"]`);
    await project.locator('[data-action="project-limits"]').click();
    await page.locator('[role="dialog"] input[name="share"]').fill('0');
    await page.locator('[data-confirm]').click();
    await expect(page.locator('[data-problem]').textContent()).resolves.toBe('The share is a whole number, 1 or more.');
    await page.locator('[role="dialog"] input[name="share"]').fill('3');
    await page.locator('[data-confirm]').click();
    await project.locator('[data-col="share"]', { hasText: /^3$/ }).waitFor(WAIT);
    const { projects } = await hub.gqlOk<{ projects: Array<{ id: string; share: number; maxConcurrentJobs: number | null }> }>(
      '{ projects { id share maxConcurrentJobs } }',
    );
    expect(projects.find((p) => p.id === scenario.projectId)).toEqual({
      id: scenario.projectId,
      share: 3,
      maxConcurrentJobs: null,
    });

    // the free net takes the first in order; the other waits with every net busy; the counts follow
    const started = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(
      'mutation { runPickupCycle { started { id } } }',
    );
    expect(started.runPickupCycle.started.map((j) => j.id)).toEqual([low]);
    await page.locator(`[data-table="running"] tr[data-job-id="${low}"]`).waitFor(WAIT);
    await position(high, 1);
    await reason(high, 'WAITING_FOR_NET');
    await project.locator('[data-col="running"]', { hasText: /^2 \(no limit\)$/ }).waitFor(WAIT);
    await heldTrust.locator('[data-col="running"]', { hasText: /^2 \(no limit\)$/ }).waitFor(WAIT);

    // a job's start attempts open from its row
    const attempts = row(page, low).locator('[data-col="attempts"] details');
    await expect(attempts.locator('summary').textContent()).resolves.toBe('1 · last started');
    await attempts.locator('summary').click();
    await expect(attempts.locator('li[data-outcome="STARTED"]').textContent()).resolves.toContain(
      `on ${await row(page, low).locator('[data-col="net"]').textContent()}: started`,
    );

    expect(tab.problems).toEqual([]);
    await expect(page.locator('[role="alert"]').count()).resolves.toBe(0);
    expect(foreignRequests(tab, origin)).toEqual([]);
    jobs.waiting = high;
    await context.close();
  });

  it('as a viewer: signs in with the form and is offered no control', async () => {
    const context = await browser.newContext();
    const tab = await openTab(context);
    const { page } = tab;
    await page.goto(`${origin}/`);
    await page.locator('form.sign-in').waitFor(WAIT); // no auth settings to fall back on: the form
    await page.locator('#token').fill(await testToken(['viewer']));
    await page.locator('form.sign-in button[type="submit"]').click();
    await page.waitForSelector('.console[data-loaded="yes"]', WAIT);
    // the rows are there, the controls are not
    await row(page, jobs.running).and(page.locator('[data-status="IN_PROGRESS"]')).waitFor(WAIT);
    await row(page, jobs.followed).and(page.locator('[data-status="COMPLETED"]')).waitFor(WAIT);
    await expect(page.locator('[data-roles]').getAttribute('data-roles')).resolves.toBe('viewer');
    // each trust's client as the nets reported it (the starts asked net-1 and sim-net-1 for them)
    await page.locator('[data-table="trusts"] [data-client-net][data-online="yes"]').first().waitFor(WAIT);

    // the queue with its reasons, the trusts with their holds and limits, the projects: no control on any
    await row(page, jobs.waiting).locator('[data-col="reason"] [data-reason="WAITING_FOR_NET"]').waitFor(WAIT);
    await expect(row(page, jobs.waiting).locator('[data-col="priority"]').textContent()).resolves.toBe('high');
    await page.locator(`tr[data-trust-id="${scenario.trustIds[0]}"] [data-col="hold"]`, { hasText: /^none$/ }).waitFor(WAIT);
    await page.locator(`tr[data-project-id="${scenario.projectId}"] [data-col="share"]`, { hasText: /^3$/ }).waitFor(WAIT);
    await expect(page.locator('[data-action]').count()).resolves.toBe(0);
    await expect(page.locator('button.danger').count()).resolves.toBe(0);
    await expect(page.locator('main button').count()).resolves.toBe(0);
    await expect(page.locator('main select, main input').count()).resolves.toBe(0);
    expect(tab.problems).toEqual([]);
    expect(foreignRequests(tab, origin)).toEqual([]);
    await context.close();
  });

  it('shows a refused action in words', async () => {
    const modelId = await scenario.newModel('model refused');
    const jobId = await scenario.queue(modelId);
    // a researcher sees and acts on its own projects only (the `projects` claim)
    const token = await testToken(['researcher'], { expiresIn: '6s', claims: { projects: [scenario.projectId] } });
    const expiresAt = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000;
    const context = await browser.newContext();
    const tab = await openTab(context);
    const { page } = tab;
    await page.goto(`${origin}/#token=${token}`);
    await row(page, jobId).locator('[data-action="remove"]').waitFor(WAIT);
    // the token expires while the page is open: the hub refuses the next call
    await page.waitForFunction((until) => Date.now() > until, expiresAt + 500, { timeout: 15_000 });
    await row(page, jobId).locator('[data-action="remove"]').click();
    await page.locator('[data-confirm]').click();
    await expect(page.locator('[role="alert"]').textContent()).resolves.toMatch(
      /Could not remove model refused: .*\(UNAUTHENTICATED\)/,
    );
    const { job } = await hub.gqlOk('query($id: ID!) { job(id: $id) { status } }', { id: jobId });
    expect(job.status).toBe('QUEUED');
    expect(tab.problems.filter((p) => !p.includes('401'))).toEqual([]);
    await context.close();
  });
});
