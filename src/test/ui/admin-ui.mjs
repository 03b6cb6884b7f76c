// End-to-end test of the admin web UI in headless Chromium (Debian's package, driven by playwright-core: no browser
// download). Run by AdminUiIT, which starts the gateway and fake providers and passes their URLs in the environment.
// Screenshots of every step and the measured timings go to $OUT. Exits non-zero on the first failed check.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const env = process.env;
const require = createRequire(join(env.UI_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const G = env.GATEWAY;
const OUT = env.OUT;
const timings = {};
let shot = 0;

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok -', what);
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
// Generous: the machine may be loaded; every wait is still bounded.
page.setDefaultTimeout(45000);
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

async function snap(name) {
  shot += 1;
  await page.screenshot({ path: join(OUT, String(shot).padStart(2, '0') + '-' + name + '.png'), fullPage: true });
}
const tid = (id) => page.getByTestId(id);
const uiTimings = () => page.evaluate(() => window.__uiTimings || []);
async function count(id) { return tid(id).count(); }

try {
  // ---- sign in, provider list ----
  await page.goto(G + '/ui/');
  await tid('key-form').waitFor();
  await snap('sign-in');
  await tid('key-input').fill(env.ADMIN_KEY);
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await tid('card').first().waitFor();
  await page.locator('[data-testid=card] [data-testid=status], [data-testid=card] .instances li').first().waitFor();
  await tid('provider-table').waitFor();
  timings.providers_visible_after_sign_in_ms = Date.now() - t0;
  const cards = await count('card');
  check(cards === 18, 'all 18 templates shown as cards (' + cards + ')');
  check(await page.evaluate(() => sessionStorage.getItem('pekko-llm-admin-key')) === env.ADMIN_KEY
    && await page.evaluate(() => localStorage.length) === 0, 'the admin key is in sessionStorage only');
  await snap('providers');

  // A cold reload with the key in the session: the whole list from navigation to rendered cards.
  await page.reload();
  await tid('provider-table').waitFor();
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
  });
  const rendered = await page.evaluate(() => performance.now());
  timings.providers_page_rendered_since_navigation_ms = Math.round(rendered);
  timings.providers_dom_content_loaded_ms = Math.round(nav.domContentLoaded);
  timings.providers_render_after_data_ms = (await uiTimings()).filter((t) => t.name === 'providers-render').pop().ms;
  // Measured, not asserted: no test asserts wall-clock speed (README has the numbers).
  console.log('provider list rendered in ' + timings.providers_page_rendered_since_navigation_ms + ' ms');

  // ---- search and filters ----
  await tid('search').fill('groq');
  check(await count('card') === 1 && await page.locator('[data-testid=card][data-id=groq]').count() === 1,
    'search by name finds Groq alone');
  await snap('search-groq');
  await tid('search').fill('self-hosted open models');
  check(await page.locator('[data-testid=card][data-id=vllm]').count() === 1, 'search matches descriptions');
  await tid('search').fill('');
  await tid('filter-category').selectOption('local');
  const local = await page.locator('[data-testid=card]').evaluateAll((els) => els.map((e) => e.dataset.id).sort());
  check(JSON.stringify(local) === JSON.stringify(['lmstudio', 'ollama', 'vllm']), 'category filter: local ' + local);
  await snap('filter-local');
  await tid('filter-category').selectOption('');
  await tid('filter-difficulty').selectOption('hard');
  const hard = await page.locator('[data-testid=card]').evaluateAll((els) => els.map((e) => e.dataset.id));
  check(JSON.stringify(hard) === JSON.stringify(['bedrock']), 'difficulty filter: hard is Bedrock');
  await tid('filter-category').selectOption('popular_cloud');
  check(await count('no-match') === 1, 'combined filters can match nothing, and say so');
  await snap('filter-none');
  await tid('filter-category').selectOption('');
  await tid('filter-difficulty').selectOption('');

  // ---- the wizard ----
  const stepTimes = [];
  async function timed(action, testid) {
    const before = (await uiTimings()).length;
    const start = Date.now();
    await action();
    await tid(testid).waitFor();
    const all = await uiTimings();
    stepTimes.push({ step: testid, browser_ms: Date.now() - start, app_ms: all.slice(before).find((t) =>
      t.name.startsWith('wizard-step'))?.ms });
  }

  async function wizard({ template, name, fields, models, expectFallback, manualModel, testOk, failedStep, save,
    label }) {
    await page.goto(G + '/ui/#/wizard');
    if (await count('start-over') > 0) await tid('start-over').click();
    await tid('step-1').waitFor();
    await snap(label + '-1-choose');
    await timed(() => page.locator('[data-testid=choose][data-id=' + template + ']').first().click(), 'step-2');
    await tid('field-name').fill(name);
    for (const [f, v] of Object.entries(fields)) {
      await tid('field-' + f).fill(v);
    }
    await snap(label + '-2-configure');
    check(await tid('next').isEnabled(), label + ': a valid form lets the wizard go on');
    await timed(() => tid('next').click(), 'step-3');
    await tid('models').waitFor();
    if (expectFallback) {
      await tid('models-fallback').waitFor();
      check((await tid('models-fallback').innerText()).includes(expectFallback),
        label + ': the failed listing says why and the fallback list is shown');
    } else {
      check(await count('models-fallback') === 0, label + ': models come from the provider');
    }
    const listed = await page.locator('[data-testid=model]').evaluateAll((els) => els.map((e) => e.value));
    for (const m of models) check(listed.includes(m), label + ': lists ' + m);
    if (manualModel) {
      await tid('manual-model').fill(manualModel);
      await tid('add-model').click();
      check(await page.locator('[data-testid=model][value="' + manualModel + '"]').isChecked(),
        label + ': a model entered by hand is picked');
      // Only the hand-entered model, so the test asks it.
      for (const m of listed) {
        const box = page.locator('[data-testid=model][value="' + m + '"]');
        if (await box.isChecked()) await box.uncheck();
      }
    }
    await snap(label + '-3-models');
    // Back and forth keeps the form.
    await timed(() => tid('back').click(), 'step-2');
    check(await tid('field-name').inputValue() === name, label + ': the form survives going back');
    await timed(() => tid('next').click(), 'step-3');
    check(await count('model') >= models.length, label + ': the model list survives going back and forth');
    await timed(() => tid('next').click(), 'step-4');
    await tid('run-test').click();
    await tid('test-steps').waitFor();
    await snap(label + '-4-test');
    const listStep = await tid('test-list_models').getAttribute('class');
    const chatStep = await tid('test-completion').getAttribute('class');
    if (testOk) {
      check(listStep === 'ok' && chatStep === 'ok', label + ': both test steps pass');
    } else {
      await tid('test-failed').waitFor();
      const text = await tid('test-' + failedStep.step).innerText();
      check(text.includes(failedStep.message), label + ': the failed step says why: ' + text);
    }
    if (save) {
      await tid('save').click();
      await tid('saved').waitFor();
      await snap(label + '-5-saved');
    }
  }

  await wizard({ label: 'ollama', template: 'ollama', name: 'ollama-local', fields: { base_url: env.OLLAMA_URL },
    models: ['llama3.2:latest', 'qwen2.5:7b'], testOk: true, save: true });
  // Real-time validation: a wrong key shape shows the error and holds the wizard.
  await page.goto(G + '/ui/#/wizard?template=groq');
  await tid('step-2').waitFor();
  await tid('field-api_key').fill('not-a-groq-key');
  await tid('error-api_key').waitFor();
  check(!(await tid('next').isEnabled()), 'groq: an invalid key blocks the next step');
  await snap('groq-2-invalid-key');
  await wizard({ label: 'groq', template: 'groq', name: 'groq-test',
    fields: { api_key: 'gsk_uitest0123456789abcd', base_url: env.GROQ_URL },
    models: ['llama-3.1-8b-instant', 'llama-3.3-70b-versatile'], testOk: true, save: true });
  await wizard({ label: 'together', template: 'together', name: 'together-test',
    fields: { api_key: 'together_uitest_0123456789', base_url: env.TOGETHER_URL },
    models: ['meta-llama/Llama-3.3-70B-Instruct-Turbo'], testOk: true, save: true });
  await wizard({ label: 'fireworks', template: 'fireworks', name: 'fireworks-test',
    fields: { api_key: 'fw_uitest0123456789abcd', base_url: env.FIREWORKS_URL },
    models: ['accounts/fireworks/models/llama-v3p1-8b-instruct'], testOk: true, save: true });
  // The model list fails: the template's fallback models, and a model entered by hand that the test then asks.
  await wizard({ label: 'fallback', template: 'groq', name: 'groq-nolist',
    fields: { api_key: 'gsk_uitest0123456789abcd', base_url: env.NOLIST_URL },
    models: ['llama-3.1-8b-instant'], expectFallback: 'model listing is broken', manualModel: 'model-x', testOk: false,
    failedStep: { step: 'list_models', message: 'model listing is broken' }, save: false });
  // A wrong key: the connection test fails at its first step with the provider's message.
  await wizard({ label: 'wrongkey', template: 'fireworks', name: 'fireworks-wrong',
    fields: { api_key: 'fw_wrongwrong0123456789', base_url: env.FIREWORKS_URL },
    models: ['accounts/fireworks/models/llama-v3p1-8b-instruct'], expectFallback: 'Incorrect API key', testOk: false,
    failedStep: { step: 'list_models', message: 'Incorrect API key' }, save: false });

  timings.test_connection_ms = (await uiTimings()).filter((t) => t.name === 'test-connection').map((t) => t.ms);
  // The saved providers are listed and serve calls.
  await page.goto(G + '/ui/#/providers');
  await tid('provider-table').waitFor();
  for (const id of ['ollama-local', 'groq-test', 'together-test', 'fireworks-test']) {
    await page.locator('[data-testid=provider-row][data-id="' + id + '"]').waitFor();
  }
  check(await page.locator('[data-testid=provider-row][data-id="groq-nolist"]').count() === 0, 'unsaved is not listed');
  await snap('providers-after-wizards');
  const call = await fetch(G + '/v1/chat/completions', { method: 'POST', headers: { Authorization: 'Bearer '
    + env.ADMIN_KEY, 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'together-test/'
    + 'meta-llama/Llama-3.3-70B-Instruct-Turbo', messages: [{ role: 'user', content: 'hi' }] }) });
  const answer = await call.json();
  check(call.status === 200 && answer.choices[0].message.content.startsWith('hello from together'),
    'a provider saved in the wizard serves calls at once');

  // ---- live: a stream interrupted, then resumed ----
  await page.goto(G + '/ui/#/live');
  await tid('streams').waitFor();
  const streamResp = await fetch(G + '/v1/chat/completions', { method: 'POST', headers: { Authorization: 'Bearer '
    + env.ADMIN_KEY, 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'openai/model-a',
    stream: true, messages: [{ role: 'user', content: 'tell me' }] }) });
  const recoveryId = streamResp.headers.get('x-recovery-id');
  const streamBody = await streamResp.text();
  check(!!recoveryId && !streamBody.includes('[DONE]'), 'the stream was cut (recovery id ' + recoveryId + ')');
  const row = page.locator('[data-testid=stream-row][data-id="' + recoveryId + '"]');
  await page.locator('[data-testid=stream-row][data-id="' + recoveryId + '"][data-status=interrupted]').waitFor();
  check((await row.getByTestId('stream-resume').innerText()).includes('resumable'), 'live view: interrupted, resumable');
  await snap('live-interrupted');
  const resumed = await fetch(G + '/v1/streams/' + recoveryId + '/resume', { method: 'POST', headers: {
    Authorization: 'Bearer ' + env.ADMIN_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ strategy: 'exact' }) });
  const resumedBody = await resumed.text();
  check(resumed.status === 200 && resumedBody.includes('[DONE]'), 'the resume completes');
  await page.locator('[data-testid=stream-row][data-id="' + recoveryId + '"][data-status=completed]').waitFor();
  check((await row.getByTestId('stream-resume').innerText()).includes('resumed'), 'live view: completed after resume');
  // ---- keys and spend: a virtual key's call on a priced model shows in the per-day chart ----
  const admin = { Authorization: 'Bearer ' + env.ADMIN_KEY, 'Content-Type': 'application/json' };
  const keyResp = await fetch(G + '/v1/keys', { method: 'POST', headers: admin,
    body: JSON.stringify({ name: 'ui-test-key', max_budget: 5 }) });
  const virtualKey = (await keyResp.json()).key;
  check(keyResp.status === 200 && !!virtualKey, 'a virtual key is created');
  const paid = await fetch(G + '/v1/chat/completions', { method: 'POST', headers: { Authorization: 'Bearer '
    + virtualKey, 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }] }) });
  check(paid.status === 200, 'the virtual key makes a priced call (' + paid.status + ')');
  let chart = false;
  for (let i = 0; i < 40 && !chart; i++) {
    await page.reload();
    await tid('keys').locator('table').first().waitFor();
    chart = await page.locator('[data-testid=spend-chart] rect').count() > 0;
    if (!chart) await page.waitForTimeout(500);
  }
  check(chart, 'live view: the spend per day is charted');
  check((await tid('keys').innerText()).includes('ui-test-key'), 'live view: the key is listed');
  await tid('cache').locator('[data-testid=hit-rate]').waitFor();
  await tid('catalog').locator('[data-testid=catalog-row]').first().waitFor();
  await tid('keys').locator('table, .error').first().waitFor();
  await snap('live-resumed');

  // ---- numbers for the README ----
  const assets = readdirSync(join(env.ASSETS, 'assets'));
  let raw = 0;
  let gz = 0;
  for (const f of assets) {
    const b = readFileSync(join(env.ASSETS, 'assets', f));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  const html = readFileSync(join(env.ASSETS, 'index.html'));
  timings.bundle_bytes = raw + html.length;
  timings.bundle_gzip_bytes = gz + gzipSync(html, { level: 9 }).length;
  const appSteps = stepTimes.map((s) => s.app_ms).filter((x) => x != null).sort((a, b) => a - b);
  const browserSteps = stepTimes.map((s) => s.browser_ms).sort((a, b) => a - b);
  const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))];
  timings.wizard_step_transitions = stepTimes.length;
  timings.wizard_step_app_ms = { p50: pct(appSteps, 0.5), p95: pct(appSteps, 0.95), max: appSteps[appSteps.length - 1] };
  timings.wizard_step_browser_ms = { p50: pct(browserSteps, 0.5), p95: pct(browserSteps, 0.95),
    max: browserSteps[browserSteps.length - 1] };
  check(timings.bundle_gzip_bytes <= 300 * 1024, 'bundle gzipped ' + timings.bundle_gzip_bytes + ' bytes (goal 300 KB)');
  check(consoleErrors.filter((e) => !e.includes('Failed to load resource')).length === 0,
    'no script errors in the page: ' + consoleErrors.join(' | '));
  writeFileSync(join(OUT, 'timings.json'), JSON.stringify(timings, null, 2));
  console.log('timings', JSON.stringify(timings));
} catch (e) {
  console.error(e);
  try { await snap('failure'); } catch (ignored) { /* the page may be gone */ }
  await browser.close();
  process.exit(1);
}
await browser.close();
