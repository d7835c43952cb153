// Opens /docs (Swagger UI) and /redoc (ReDoc) of a running service in headless Chromium,
// with every address other than the service's own refused, and checks that each page
// renders the operations of every API version. Writes a screenshot of each page.
//
//   node docs-pages.mjs http://127.0.0.1:PORT OUT_DIR v1,v2
//
// Exits non-zero, saying why, if a page fails to render, an operation is missing, or the
// page tried to reach any other host.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, outDir, versionList] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node docs-pages.mjs BASE_URL OUT_DIR [v1,v2]');
  process.exit(2);
}
const versions = (versionList || '').split(',').filter(Boolean);
mkdirSync(outDir, { recursive: true });
const origin = new URL(base).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu',
    // "Network off": every request that is not to the service goes to a dead proxy.
    '--proxy-server=127.0.0.1:9', `--proxy-bypass-list=${new URL(base).host}`,
  ],
});
const failures = [];
const foreign = [];

async function open(path) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.on('request', (req) => {
    if (!req.url().startsWith(origin) && !req.url().startsWith('data:') && !req.url().startsWith('blob:')) {
      foreign.push(`${path}: ${req.url()}`);
    }
  });
  page.on('pageerror', (err) => failures.push(`${path}: page error: ${err.message}`));
  const resp = await page.goto(base + path, { waitUntil: 'networkidle' });
  if (!resp || resp.status() !== 200) failures.push(`${path}: HTTP ${resp && resp.status()}`);
  return { context, page };
}

// ---- Swagger UI: the version selector lists each version; each version's operations render.
{
  const { context, page } = await open('/docs/');
  await page.waitForSelector('.opblock', { timeout: 20000 }).catch(() => failures.push('/docs/: no operation rendered'));
  const report = { page: '/docs/', selector: [], versions: {} };
  const select = await page.$('.topbar select');
  if (versions.length) {
    if (!select) {
      failures.push('/docs/: no version selector');
    } else {
      report.selector = await select.$$eval('option', (os) => os.map((o) => o.textContent.trim()));
      for (const v of versions) {
        if (!report.selector.includes(v)) { failures.push(`/docs/: selector lacks ${v}`); continue; }
        await select.selectOption({ label: v });
        await page.waitForFunction(
          (v) => [...document.querySelectorAll('.opblock-summary-path, .opblock-summary-path__deprecated')].some((e) => e.textContent.includes(`/api/${v}/`)),
          v, { timeout: 20000 },
        ).catch(() => failures.push(`/docs/: no /api/${v}/ operation after choosing ${v}`));
        const ops = await page.$$eval('.opblock', (bs) => bs.map((b) => ({
          method: b.querySelector('.opblock-summary-method')?.textContent.trim(),
          path: b.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated')?.textContent.trim(),
          deprecated: b.classList.contains('opblock-deprecated'),
        })));
        report.versions[v] = ops;
        await page.screenshot({ path: `${outDir}/docs-${v}.png`, fullPage: false });
      }
    }
  } else {
    report.versions.all = await page.$$eval('.opblock-summary-path, .opblock-summary-path__deprecated', (ps) => ps.map((p) => p.textContent.trim()));
    await page.screenshot({ path: `${outDir}/docs.png`, fullPage: false });
  }
  console.log(JSON.stringify(report));
  await context.close();
}

// ---- ReDoc: one page with every operation of every version.
{
  const { context, page } = await open('/redoc');
  await page.waitForSelector('[data-section-id^="operation/"], [id^="operation/"]', { timeout: 30000 })
    .catch(() => failures.push('/redoc: no operation rendered'));
  const text = await page.evaluate(() => document.body.innerText);
  const operations = await page.$$eval('[data-section-id^="operation/"], [id^="operation/"]', (es) => es.length);
  for (const v of versions) {
    if (!text.includes(`/api/${v}/`)) failures.push(`/redoc: no /api/${v}/ path shown`);
  }
  console.log(JSON.stringify({ page: '/redoc', operations }));
  await page.screenshot({ path: `${outDir}/redoc.png`, fullPage: false });
  await context.close();
}

await browser.close();
for (const f of foreign) failures.push(`tried to reach another host: ${f}`);
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`docs pages ok; screenshots in ${outDir}`);
