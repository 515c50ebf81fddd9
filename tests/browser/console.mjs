// The staff console in real Chromium, end to end. Run by the Rust test
// `browser::the_console_in_chromium` (tests/it/browser.rs), which starts a
// real dock and console on loopback, syncs a real tablet into it, hands
// this script the addresses and accounts in the environment, and after it
// ends syncs the tablet again to check what the browser did.
//
// Each step takes a screenshot into BERTH_SHOTS and runs axe-core on the
// page; a serious or critical violation fails the run. A Content Security
// Policy report (inline script or style) fails it too.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set. This script is run by the Rust test browser::the_console_in_chromium (cargo test --test it -- --ignored browser).`);
    process.exit(2);
  }
  return v;
}

const base = need('BERTH_CONSOLE');
const shots = need('BERTH_SHOTS');
const reviewer = need('BERTH_REVIEWER');
const reviewerTemp = need('BERTH_REVIEWER_TEMP');
const admin = need('BERTH_ADMIN');
const adminTemp = need('BERTH_ADMIN_TEMP');
const legal = need('BERTH_LEGAL');
const auditor = need('BERTH_AUDITOR');
const education = need('BERTH_EDUCATION');
const password = need('BERTH_PASSWORD');
const flagged = need('BERTH_FLAGGED');
const contactPerson = need('BERTH_CONTACT_PERSON');
const privileged = need('BERTH_PRIVILEGED');
const reason = need('BERTH_REASON');
const chromiumPath = process.env.BERTH_CHROMIUM || '/usr/bin/chromium';

fs.mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const problems = [];
let shot = 0;

/// A fresh browser profile: its own cookies, like a second workstation.
async function workstation() {
  // The dock's certificate is self-signed; staff compare its fingerprint
  // once. The Rust side has checked the certificate itself.
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    // Statuses the steps expect (401, 400) are logged as errors too;
    // what counts is anything the page's policy had to refuse.
    if (/Content Security Policy|Refused to/.test(m.text())) problems.push(`on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
  return page;
}

/// Screenshot and accessibility scan of the page as it stands.
async function look(page, name) {
  shot += 1;
  const file = path.join(shots, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // Evaluated through the DevTools protocol, which the page's CSP does
  // not govern; the page itself still runs no script.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      problems.push(`${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    }
  }
  console.log(`looked at ${name}: ${file}; axe: ${result.violations.length} findings, ${result.passes.length} rules passed`);
}

async function signIn(page, user, pw) {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login$/);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/// The first sign-in with a password someone else set: the console asks
/// for a new one before anything else.
async function firstSignIn(page, user, temp, name) {
  await signIn(page, user, temp);
  await page.waitForURL(/\/password$/);
  await page.getByText('Your password was set by someone else').waitFor();
  await look(page, `${name}-must-change`);
  await page.getByLabel('Current password').fill(temp);
  await page.getByLabel(/^New password \(/).fill(password);
  await page.getByLabel('New password again').fill(password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForURL(`${base}/`);
  await page.getByRole('heading', { name: 'Start' }).waitFor();
  await look(page, `${name}-start`);
}

/// A link in the header's page list.
function nav(page, name) {
  return page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true });
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login$/);
}

// 1. The sign-in page, and a wrong password.
{
  const page = await workstation();
  await page.goto(`${base}/review`);
  await page.waitForURL(/\/login$/);
  await look(page, 'login');
  await signIn(page, reviewer, 'not the password at all');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /username or the password is not right/i);
  await look(page, 'login-wrong');
  await page.context().close();
}

// 2. The mail reviewer: first sign-in, the queue, the flagged letter,
//    a rejection with a typed reason, and the search.
{
  const page = await workstation();
  await firstSignIn(page, reviewer, reviewerTemp, 'reviewer');
  await nav(page, 'Review').click();
  await page.waitForURL(/\/review/);
  const first = page.locator('tbody tr').first();
  assert.equal(await first.locator('a').innerText(), flagged, 'the flagged letter comes first');
  assert.match(await first.locator('mark').innerText(), /paquete/);
  await look(page, 'review-queue');

  await first.locator('a').click();
  await page.waitForURL(new RegExp(`/review/${flagged}$`));
  const body = page.locator('pre.body');
  assert.equal(await body.locator('mark').first().innerText(), 'paquete', 'the word is highlighted in the letter');
  await look(page, 'review-letter');

  // Reject with nothing chosen: refused, the letter stays.
  await page.getByRole('button', { name: 'Reject' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Choose a reason/);
  await look(page, 'review-reject-no-reason');
  await page.goto(`${base}/review/${flagged}`);
  await page.getByLabel('Or write the reason').fill(reason);
  await page.getByRole('button', { name: 'Reject' }).click();
  await page.waitForURL(/\/review$/);

  // Find it again by person and state; its history names the reviewer.
  await page.getByLabel('State').selectOption({ label: 'Rejected' });
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForURL(/state=rejected/);
  await look(page, 'review-search-rejected');
  await page.getByRole('link', { name: flagged }).click();
  const history = page.locator('table').last();
  assert.match(await history.innerText(), new RegExp(reviewer));
  assert.match(await page.locator('dl.facts').innerText(), new RegExp(reason.slice(0, 20)));
  assert.equal(await page.getByRole('button', { name: 'Reject' }).count(), 0, 'decided once');
  await look(page, 'review-letter-rejected');
  await signOut(page);
  await page.context().close();
}

// 2b. The reviewer approves a contact request: the contact is invited.
{
  const page = await workstation();
  await signIn(page, reviewer, password);
  await page.waitForURL(`${base}/`);
  await nav(page, 'Contacts').click();
  await page.getByRole('heading', { name: 'Contact requests' }).waitFor();
  const main = await page.locator('main').innerText();
  assert.match(main, /Luis Pérez/);
  assert.match(main, /matches no-contact entry/, 'the dock-refused request is shown to staff');
  await look(page, 'contacts');
  await page.getByRole('button', { name: 'Refuse' }).first().click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.locator('main').innerText(), /Nothing was changed/);
  await look(page, 'contacts-refuse-no-reason');
  await page.goto(`${base}/contacts`);
  await page.getByRole('button', { name: 'Approve and invite Luis Pérez' }).click();
  await page.getByText('was sent an invitation').waitFor();
  await look(page, 'contacts-approved');
  await page.getByLabel('Person\'s ID').fill(contactPerson);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/person=/);
  await page.getByRole('heading', { name: /Contacts of/ }).waitFor();
  await look(page, 'contacts-person');
  await signOut(page);
  await page.context().close();
}

// 3. The legal mail officer: privileged letters by who, whom and when;
// the no-contact list.
{
  const page = await workstation();
  await signIn(page, legal, password);
  await page.waitForURL(`${base}/`);
  await nav(page, 'No-contact list').click();
  await page.getByRole('heading', { name: 'No-contact list' }).waitFor();
  await look(page, 'no-contact');
  await page.locator('#nperson').fill(contactPerson);
  await page.getByRole('radio', { name: 'witness' }).check();
  await page.locator('#nname').fill('Pedro Gil');
  await page.locator('#naddress').fill('Calle Mayor 3, Springfield');
  await page.getByRole('button', { name: 'Add to the list' }).click();
  await page.getByText(/Added entry \d+/).waitFor();
  assert.match(await page.locator('main').innerText(), /Pedro Gil/);
  await look(page, 'no-contact-added');
  await page.goto(`${base}/legal`);
  await look(page, 'legal-queue');
  await page.getByRole('link', { name: privileged }).click();
  await page.getByText('the letter\'s text is not shown to anyone').waitFor();
  assert.equal(await page.locator('pre.body').count(), 0, 'no privileged body');
  await look(page, 'legal-letter');
  await signOut(page);
  await page.context().close();
}

// 4. The IT admin: tablets, staff (adds an account), audit.
// (The IT admin keeps the no-contact list too, but reads no contact request.)
{
  const page = await workstation();
  await firstSignIn(page, admin, adminTemp, 'admin');
  assert.equal(await nav(page, 'Contacts').count(), 0, 'IT reads no contact request');
  assert.equal(await nav(page, 'No-contact list').count(), 1, 'IT keeps the no-contact list');
  await nav(page, 'Tablets').click();
  await page.getByRole('heading', { name: 'Tablets' }).first().waitFor();
  assert.match(await page.locator('main').innerText(), /tab-1/);
  await look(page, 'tablets');

  await nav(page, 'Staff').click();
  await page.getByRole('heading', { name: 'Staff accounts' }).first().waitFor();
  await look(page, 'staff');
  await page.getByLabel(/^Username \(/).fill('mo');
  await page.getByLabel('Name to show').fill('Mo Díaz');
  await page.getByRole('checkbox', { name: /Mail reviewer/ }).check();
  await page.getByRole('button', { name: 'Make the account' }).click();
  await page.getByText('is shown this once').waitFor();
  assert.match(await page.locator('main').innerText(), /Mo Díaz/);
  await look(page, 'staff-added');

  await nav(page, 'Audit').click();
  await page.getByRole('heading', { name: 'Staff audit trail' }).first().waitFor();
  const trail = await page.locator('main').innerText();
  assert.match(trail, /review\.reject/);
  assert.match(trail, /staff\.add/);
  await look(page, 'audit');
  await signOut(page);
  await page.context().close();
}

// 5. The auditor reads the trail and no letter; education has no mail.
for (const [user, name] of [[auditor, 'auditor'], [education, 'education']]) {
  const page = await workstation();
  await signIn(page, user, password);
  await page.waitForURL(`${base}/`);
  await look(page, `${name}-start`);
  if (name === 'education') {
    assert.match(await page.locator('main').innerText(), /No page of the console serves/);
  }
  assert.equal(await nav(page, 'Review').count(), 0, `${name} has no review link`);
  const r = await page.goto(`${base}/review/${flagged}`);
  assert.equal(r.status(), 403, `${name} may not open a letter`);
  assert.equal(await page.locator('pre.body').count(), 0);
  await look(page, `${name}-forbidden`);
  if (name === 'auditor') {
    await nav(page, 'Audit').click();
    await page.getByRole('heading', { name: 'Staff audit trail' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Reject' }).count(), 0);
    await look(page, 'auditor-audit');
  }
  await signOut(page);
  await page.context().close();
}

await browser.close();
if (problems.length > 0) {
  console.error(`${problems.length} problems:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`the console in Chromium: every step passed; ${shot} screenshots in ${shots}`);
