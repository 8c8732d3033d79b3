// Accessibility test in Debian's headless Chromium (driven by playwright-core, checked with
// axe-core): the built debug binary is started on a temporary SQLite database with the demo
// partnership; axe checks the sign-in page, a forgotten password, a dead invitation link and
// the two-step verification set-up (as the business manager); the programme manager signs in
// with the demo's TOTP key and axe checks the code step, My work, the case
// list, a case page (and the second page of a long timeline), an event form showing a validation error, publication planning, Your
// account, the upload form showing a validation error, a case page with documents, the
// meetings, a meeting decided by a vote, its attendance checklist (and the quorum recounted as
// boxes are unticked), the decision form with errors, the minutes form and the meeting form
// with errors; then the administrator signs in and axe checks the users, adding a user, the
// outbox, one message, the agencies and the members of the Sub-Group and the Board. All against WCAG 2.0, 2.1
// and 2.2 A and AA; the run fails on any violation. Then one flow is done with the keyboard
// alone: sign in and record an event.
//
// It builds nothing: run `cargo build` (or `cargo test`) first, then `tests/browser/run.sh`,
// which also installs what this needs. Environment: LCSPR_BIN (the binary, default
// target/debug/lcspr-tracker), CHROMIUM (default /usr/bin/chromium).

import { spawn, execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = process.env.LCSPR_BIN || path.join(root, 'target', 'debug', 'lcspr-tracker')
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium'
const axeSource = fs.readFileSync(path.join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8')
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']
const PM = { email: 'pm@demo.example', password: 'demo-password-2026' }
const ADMIN = { email: 'admin@demo.example', password: 'demo-password-2026' }
const BM = { email: 'bm@demo.example', password: 'demo-password-2026' }
// The demo's published TOTP key for the roles that need two-step verification (src/demo.rs).
const DEMO_TOTP_SECRET = 'DEMOLCSPRTRACKERDEMOLCSPRTRACKER'

function base32 (text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of text.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const bytes = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

/** RFC 6238: the six-digit code of a 30-second step. */
function totp (secret, step) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const h = crypto.createHmac('sha1', base32(secret)).update(counter).digest()
  const o = h[h.length - 1] & 0xf
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0')
}

/** A code the service has not seen from this user yet (each code works once). */
const lastStep = new Map()
async function freshCode (email) {
  let step = Math.floor(Date.now() / 30000)
  const last = lastStep.get(email) ?? -1
  if (step <= last) {
    await new Promise((resolve) => setTimeout(resolve, (last + 1) * 30000 - Date.now() + 250))
    step = last + 1
  }
  lastStep.set(email, step)
  return totp(DEMO_TOTP_SECRET, step)
}

const problems = []
const log = (...args) => console.log(...args)

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function waitReady (base, server, output) {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`the server exited (${server.exitCode}):\n${output.join('')}`)
    }
    try {
      const r = await fetch(`${base}/readyz`)
      if (r.ok) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`the server did not become ready:\n${output.join('')}`)
}

/** Runs axe on the page; records every violation. */
async function check (page, name) {
  await page.evaluate(axeSource)
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`)
    }))
  }, TAGS)
  if (result.length === 0) {
    log(`ok    ${name} (${page.url()}): no axe violations`)
  } else {
    log(`FAIL  ${name} (${page.url()}): ${result.length} axe violation(s)`)
    for (const v of result) {
      log(`      [${v.impact}] ${v.id}: ${v.help}`)
      for (const n of v.nodes) log(`        ${n.replace(/\n/g, ' ')}`)
    }
    problems.push(`${name}: ${result.map((v) => v.id).join(', ')}`)
  }
}

function expect (condition, message) {
  if (!condition) throw new Error(message)
}

/** Presses Tab until `test(activeElement)` holds; fails after `max` presses. */
async function tabTo (page, what, test, max = 120) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const found = await page.evaluate(test)
    if (found) return
  }
  throw new Error(`keyboard: could not reach ${what} with Tab on ${page.url()}`)
}

async function signInWithMouse (page, base, user = PM, { codeStep = true, checkCode = false } = {}) {
  await page.goto(`${base}/sign-in`)
  await page.fill('#email', user.email)
  await page.fill('#password', user.password)
  if (!codeStep) {
    await Promise.all([page.waitForURL(`${base}/`), page.click('button:has-text("Sign in")')])
    return
  }
  await Promise.all([page.waitForURL(`${base}/sign-in/code`), page.click('button:has-text("Sign in")')])
  if (checkCode) await check(page, 'sign-in: the code from the authenticator app')
  await page.fill('#otp', await freshCode(user.email))
  await Promise.all([page.waitForURL(`${base}/`), page.click('button:has-text("Continue")')])
}

/** The first case in a filtered list. */
async function firstCase (page, base, stage) {
  await page.goto(`${base}/cases?stage=${stage}`)
  const href = await page.getAttribute('table.govuk-table tbody a.govuk-link', 'href')
  expect(href, `no case at the ${stage} stage`)
  return href
}

/** axe must find a planted violation, or a clean report means nothing. */
async function axeWorks (context) {
  const page = await context.newPage()
  await page.setContent('<!DOCTYPE html><html><head><title>t</title></head><body><main><img src="data:,"></main></body></html>')
  await page.evaluate(axeSource)
  // eslint-disable-next-line no-undef
  const ids = await page.evaluate(async () => (await axe.run(document)).violations.map((v) => v.id))
  expect(ids.includes('image-alt') && ids.includes('html-has-lang'), `axe did not find the planted violations: ${ids}`)
  await page.close()
}

async function pages (context, base) {
  const page = await context.newPage()
  const consoleErrors = []
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`) })
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`))
  // A stylesheet, script or image the pages ask for and do not get.
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== 'document') {
      problems.push(`${r.url()} answered ${r.status()} (asked for by ${page.url()})`)
    }
  })

  await page.goto(`${base}/sign-in`)
  await check(page, 'sign-in page')
  // The pages before signing in: a forgotten password, and a link that no longer works.
  await page.goto(`${base}/forgotten-password`)
  await check(page, 'forgotten password')
  await page.fill('#email', 'nobody@demo.example')
  await Promise.all([page.waitForURL(`${base}/forgotten-password/sent`), page.click('button:has-text("Send the link")')])
  await check(page, 'forgotten password: check your email')
  await page.goto(`${base}/invitation`)
  expect(await page.isVisible('text=This invitation link does not work'), 'a dead invitation link says so')
  await check(page, 'an invitation link that does not work')
  // Two-step verification set-up (the business manager's role does not need it, but may).
  await signInWithMouse(page, base, BM, { codeStep: false })
  await page.goto(`${base}/account/two-step`)
  expect(await page.isVisible('svg[role="img"]'), 'the set-up page shows the QR code')
  await check(page, 'two-step verification set-up')
  await context.clearCookies()
  await signInWithMouse(page, base, PM, { checkCode: true })
  await check(page, 'My work')
  await page.goto(`${base}/cases`)
  await check(page, 'case list')

  const planned = await firstCase(page, base, 'publication_planning')
  await page.goto(`${base}${planned}`)
  expect(await page.isVisible('h2#stages'), 'the case page has no stages')
  await check(page, 'case page')
  await page.goto(`${base}${planned}/publication`)
  expect(await page.isVisible('text=Copies for publication on'), 'publication planning shows no copies')
  await check(page, 'publication planning')

  // Beyond the pages the issue names: the audit trail and the new case form (with errors).
  await page.goto(`${base}${planned}/audit`)
  await check(page, 'audit trail')
  // Issue 12: search, the reports, the printable chronology; the clocks picture on the case page.
  await page.goto(`${base}${planned}`)
  expect(await page.isVisible('svg.app-timeline'), 'the case page shows the clocks picture')
  await page.fill('#header-search', 'child')
  await Promise.all([page.waitForLoadState('load'), page.click('.app-header-search button')])
  expect(page.url().includes('/cases?q=child'), 'the header search goes to the case list')
  await check(page, 'case list searched')
  await page.goto(`${base}/reports/annual`)
  expect(await page.isVisible('svg.app-chart'), 'the annual report shows its chart')
  await check(page, 'annual report')
  const figure = await page.getAttribute('a[href*="/reports/annual/cases"]', 'href')
  if (figure) {
    await page.goto(`${base}${figure}`)
    await check(page, 'the cases behind a figure')
  }
  await page.goto(`${base}/reports/board`)
  await check(page, 'report to the Board')
  await page.goto(`${base}${planned}/print`)
  await check(page, 'printable chronology')
  // At 320 CSS pixels the report pages do not scroll sideways (WCAG 1.4.10): wide tables and
  // pictures scroll inside their own containers.
  const viewport = page.viewportSize()
  await page.setViewportSize({ width: 320, height: 640 })
  for (const path of ['/', '/cases', '/meetings', '/reports/annual', '/reports/board', planned, `${planned}/publication`, `${planned}/print`]) {
    await page.goto(`${base}${path}`)
    const wide = await page.evaluate(() => document.documentElement.scrollWidth)
    // On failure, name the outermost elements that stick out, so the fix is plain.
    const culprits = wide <= 320 ? [] : await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 320 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > 320))
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px)`))
    expect(wide <= 320, `${path} scrolls sideways at 320 px (${wide} px wide): ${culprits.join(', ')}`)
  }
  if (viewport) await page.setViewportSize(viewport)
  await page.goto(`${base}/cases/new`)
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Open case")')])
  expect(await page.isVisible('.govuk-error-summary'), 'the empty new case form showed no errors')
  await check(page, 'new case form with errors')

  const notified = await firstCase(page, base, 'notification')
  await page.goto(`${base}${notified}/events/sin_submitted`)
  await page.fill('#occurred_on', '30')
  await page.fill('#occurred_on-month', '2')
  await page.fill('#occurred_on-year', String(new Date().getFullYear()))
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Record event")')])
  expect(await page.isVisible('.govuk-error-summary'), 'the bad date showed no error summary')
  expect(await page.isVisible('#occurred_on-error'), 'the bad date showed no inline error')
  await check(page, 'event form with a validation error')

  // A long timeline, shown a page at a time: 20 more meetings on a case in review.
  const reviewing = await firstCase(page, base, 'in_review')
  const signIn = await fetch(`${base}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: PM.email, password: PM.password, otp: await freshCode(PM.email) })
  })
  const { token } = await signIn.json()
  const today = new Date().toISOString().slice(0, 10)
  for (let i = 1; i <= 20; i++) {
    const r = await fetch(`${base}/api/v1${reviewing}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'review_meeting', occurred_on: today, note: `Meeting ${i}` })
    })
    expect(r.status === 201, `recording a meeting answered ${r.status}`)
  }
  await page.goto(`${base}${reviewing}?timeline=2`)
  expect(await page.isVisible('nav[aria-label="Timeline pages"]'), 'a long timeline is not in pages')
  await check(page, 'case page, second page of a long timeline')

  // Your account, and review documents.
  await page.goto(`${base}/account`)
  expect(await page.isVisible('text=Reminders of statutory deadlines cannot be switched off'), 'Your account does not say reminders cannot be switched off')
  await check(page, 'Your account')
  await page.goto(`${base}${planned}/documents/new`)
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Upload document")')])
  expect(await page.isVisible('.govuk-error-summary'), 'the empty upload form showed no error summary')
  expect(await page.isVisible('#file-error'), 'the empty upload form showed no error on the file')
  await check(page, 'upload form with a validation error')
  await page.selectOption('#kind', 'press_statement')
  await page.fill('#title', 'Press statement')
  await page.setInputFiles('#file', { name: 'statement.txt', mimeType: 'text/plain', buffer: Buffer.from('Statement on the publication of the review.\n') })
  await Promise.all([page.waitForURL(/\?uploaded=/), page.click('button:has-text("Upload document")')])
  expect(await page.isVisible('text=Version 1 of “Press statement” uploaded'), 'no banner after the upload')
  await page.click('#documents ~ .app-table-container table summary')
  await check(page, 'case page with documents')

  // Governance: the meetings, a meeting decided by a vote, its attendance checklist (the quorum
  // recounted as boxes are ticked), the decision and minutes forms, scheduling with errors.
  await page.goto(`${base}/meetings`)
  expect(await page.isVisible('h2#upcoming'), 'the meetings page has no upcoming meetings')
  await check(page, 'meetings list')
  await Promise.all([page.waitForLoadState('load'), page.click('a:has-text("Serious Cases Sub-Group (extraordinary)")')])
  expect(await page.isVisible('text=Votes, one per agency'), 'the meeting page shows no votes')
  await check(page, 'meeting page with a vote')
  const meeting = page.url().replace(/[?#].*$/, '')
  await page.goto(`${meeting}/attendance`)
  expect(await page.isVisible('text=Quorate: 6 agencies present, 4 needed.'), 'the attendance form shows no quorum')
  await check(page, 'attendance checklist')
  for (const box of await page.$$('input[name="present"]:checked')) await box.uncheck()
  expect(await page.isVisible('text=Quorate: 1 agency present, 4 needed.') || await page.isVisible('text=Not quorate: 1 agency present, 4 needed.'),
    'the quorum was not recounted as the boxes were unticked (static/quorum.js)')
  await page.goto(`${meeting}/decisions/new`)
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Record decision")')])
  expect(await page.isVisible('.govuk-error-summary'), 'the empty decision form showed no errors')
  await check(page, 'decision form with errors')
  await page.goto(`${meeting}/minutes`)
  await check(page, 'minutes form')
  await page.goto(`${base}/meetings/new`)
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Schedule meeting")')])
  expect(await page.isVisible('.govuk-error-summary'), 'the empty meeting form showed no errors')
  await check(page, 'schedule a meeting with errors')

  // The administrator's outbox.
  await context.clearCookies()
  await signInWithMouse(page, base, ADMIN)
  await page.goto(`${base}/admin/users`)
  expect(await page.isVisible('text=Reset two-step verification'), 'the users page offers the reset')
  await check(page, 'users')
  await page.goto(`${base}/admin/users/new`)
  await check(page, 'add a user')
  await page.goto(`${base}/admin/outbox`)
  expect(await page.isVisible('h1:has-text("Outbox")'), 'the outbox page has no heading')
  await check(page, 'outbox')
  await Promise.all([page.waitForLoadState('load'), page.click('table.govuk-table tbody a.govuk-link >> nth=0')])
  expect(await page.isVisible('text=The message'), 'the outbox message page shows no message')
  await check(page, 'outbox message')
  await page.goto(`${base}/admin/agencies`)
  expect(await page.isVisible('h1:has-text("Agencies")'), 'the agencies page has no heading')
  await check(page, 'agencies')
  await page.goto(`${base}/admin/bodies`)
  expect(await page.isVisible('text=Core members of the Serious Cases Sub-Group'), 'the members page shows no members')
  await check(page, 'members of the Sub-Group and the Board')

  const csp = consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))
  for (const e of csp) problems.push(`CSP: ${e}`)
  for (const e of consoleErrors.filter((e) => !/Failed to load resource/.test(e))) {
    problems.push(`console: ${e}`)
  }
  await page.close()
}

async function keyboardFlow (context, base) {
  const page = await context.newPage()
  await page.goto(`${base}/sign-in`)
  await tabTo(page, 'the email field', () => document.activeElement?.id === 'email')
  await page.keyboard.type(PM.email)
  await tabTo(page, 'the password field', () => document.activeElement?.id === 'password')
  await page.keyboard.type(PM.password)
  await Promise.all([page.waitForURL(`${base}/sign-in/code`), page.keyboard.press('Enter')])
  await tabTo(page, 'the code field', () => document.activeElement?.id === 'otp')
  await page.keyboard.type(await freshCode(PM.email))
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')])

  // To a case at the notification stage, through the navigation and the list.
  await tabTo(page, 'the Cases link', () => document.activeElement?.getAttribute('href') === '/cases')
  await Promise.all([page.waitForURL(`${base}/cases`), page.keyboard.press('Enter')])
  await tabTo(page, 'the stage filter', () => document.activeElement?.id === 'stage')
  await page.keyboard.type('Notification') // a select takes typed text as its choice
  await tabTo(page, 'Apply filters', () => document.activeElement?.textContent?.trim() === 'Apply filters')
  await Promise.all([page.waitForURL(/stage=notification/), page.keyboard.press('Space')])
  await tabTo(page, 'a case', () => /^\/cases\/[0-9a-f]{32}$/.test(document.activeElement?.getAttribute('href') || ''))
  await Promise.all([page.waitForURL(/\/cases\/[0-9a-f]{32}$/), page.keyboard.press('Enter')])
  await tabTo(page, 'the partners informed form', () => (document.activeElement?.getAttribute('href') || '').endsWith('/events/partners_informed'))
  await Promise.all([page.waitForURL(/partners_informed$/), page.keyboard.press('Enter')])

  // The date is today already; a note, then the button with Space.
  await tabTo(page, 'the notes', () => document.activeElement?.id === 'note')
  await page.keyboard.type('Recorded with the keyboard alone.')
  await tabTo(page, 'Record event', () => document.activeElement?.textContent?.trim() === 'Record event')
  await Promise.all([page.waitForURL(/recorded=partners_informed/), page.keyboard.press('Space')])
  expect(await page.isVisible('text=Event recorded: Safeguarding partners informed'), 'no success banner after the keyboard flow')
  expect(await page.isVisible('text=Recorded with the keyboard alone.'), 'the note is not in the timeline')
  log('ok    keyboard alone: signed in and recorded an event')
  await page.close()
}

async function main () {
  expect(fs.existsSync(bin), `${bin} not found: build it first (cargo build)`)
  expect(fs.existsSync(chromiumPath), `${chromiumPath} not found (apt-get install chromium)`)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lcspr-a11y-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const db = path.join(tmp, 'lcspr.db')
  fs.writeFileSync(db, '')
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${db}`,
    LCSPR_CONFIG_DIR: path.join(tmp, 'config'),
    LCSPR__SERVICE__BASE_URL: base,
    LCSPR__JOBS__ENABLED: 'false',
    LCSPR__MAIL__OUTBOX_DIR: path.join(tmp, 'outbox'),
    LCSPR__DOCUMENTS__DIR: path.join(tmp, 'documents'),
    RUST_LOG: 'warn'
  }
  let server = null
  let context = null
  try {
    execFileSync(bin, ['demo'], { env, cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] })
    const output = []
    server = spawn(bin, ['serve', '--bind', `127.0.0.1:${port}`], { env, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] })
    server.stdout.on('data', (d) => output.push(String(d)))
    server.stderr.on('data', (d) => output.push(String(d)))
    await waitReady(base, server, output)
    log(`server ready at ${base}`)

    context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
    })
    await axeWorks(context)
    await pages(context, base)
    await context.clearCookies()
    await keyboardFlow(context, base)
  } finally {
    if (context) await context.close().catch(() => {})
    if (server && server.exitCode === null) {
      server.kill('SIGTERM')
      await new Promise((resolve) => {
        const t = setTimeout(() => { server.kill('SIGKILL'); resolve() }, 10_000)
        server.on('exit', () => { clearTimeout(t); resolve() })
      })
    }
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  log('\nall accessibility checks passed')
}

main().catch((e) => {
  console.error(`FAIL: ${e.stack || e}`)
  process.exit(1)
})
