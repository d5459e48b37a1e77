import './styles.css';

// Which build this is: "A" unless built with SAMPLE_SITE_RELEASE (see release-loader.js).
const RELEASE = '__RELEASE__';
let lazyRelease = null;

// Every check resolves to true or false (never throws), so the report always appears and a
// headless browser's DOM dump shows exactly what failed.

function pageLoaded() {
  if (document.readyState === 'complete') return Promise.resolve();
  return new Promise((resolve) => window.addEventListener('load', resolve, { once: true }));
}

function imageLoads(img) {
  if (img.complete) return Promise.resolve(img.naturalWidth > 0);
  return new Promise((resolve) => {
    img.addEventListener('load', () => resolve(img.naturalWidth > 0), { once: true });
    img.addEventListener('error', () => resolve(false), { once: true });
  });
}

function backgroundImageLoads(element) {
  const match = /url\("?([^")]+)"?\)/.exec(getComputedStyle(element).backgroundImage);
  if (!match) return Promise.resolve(false);
  const probe = new Image();
  probe.src = match[1];
  return imageLoads(probe);
}

async function fontLoads(family) {
  const faces = await document.fonts.load(`16px "${family}"`);
  return faces.length > 0 && faces.every((face) => face.status === 'loaded');
}

async function lazyChunk() {
  const lazy = await import(/* webpackChunkName: "lazy" */ './lazy.js');
  lazyRelease = lazy.release;
  return { lazy: lazy.ready, lazyCss: lazy.isLazyCssApplied() };
}

async function settle(name, check) {
  try {
    return [name, (await check()) === true];
  } catch (error) {
    console.error(`check ${name} failed:`, error);
    return [name, false];
  }
}

async function runChecks() {
  await pageLoaded();
  const card = document.querySelector('.card');
  const lazyResult = lazyChunk().catch((error) => {
    console.error('lazy chunk failed:', error);
    return { lazy: false, lazyCss: false };
  });
  const entries = await Promise.all([
    settle('js', () => true),
    settle('css', () => getComputedStyle(card).borderTopWidth === '6px'),
    settle('cssImage', () => backgroundImageLoads(card)),
    settle('themeCss', () => getComputedStyle(document.querySelector('.themed')).letterSpacing === '2px'),
    settle('font', () => fontLoads('Sample Sans')),
    settle('image', () => imageLoads(document.querySelector('img[alt="logo"]'))),
    settle('bgImage', () => backgroundImageLoads(document.body)),
    settle('lazy', async () => (await lazyResult).lazy),
    settle('lazyCss', async () => (await lazyResult).lazyCss),
  ]);
  const report = Object.fromEntries(entries);
  const ok = Object.values(report).every(Boolean);
  document.getElementById('report').textContent = JSON.stringify(report, null, 1);
  document.body.dataset.status = ok ? 'ok' : 'failed';
  document.title = ok ? 'ok: assetpub sample site' : 'FAILED: assetpub sample site';
}

function customProperty(element, name) {
  return getComputedStyle(element).getPropertyValue(name).trim() || null;
}

// Chunks no check loads: only a visitor's action does, at any time after the page loaded.
const onDemand = {
  panel: () => import(/* webpackChunkName: "panel" */ './panel.js'),
  dialog: () => import(/* webpackChunkName: "dialog" */ './dialog.js'),
};

// Loads an on-demand chunk and its CSS, shows it, and says which release each came from, or
// why it failed (webpack's ChunkLoadError names the URL it could not load).
async function loadLazy(name) {
  try {
    const chunk = await onDemand[name]();
    const element = document.createElement('p');
    element.className = chunk.className;
    element.textContent = `${name} of release ${chunk.release}`;
    document.querySelector('main').append(element);
    return { js: chunk.release, css: customProperty(element, '--chunk-release') };
  } catch (error) {
    console.error(`chunk ${name} failed:`, error);
    return { error: String(error) };
  }
}

// What tests/test_rolling_deploy.py drives in a tab it keeps open across publishes.
window.sampleSite = {
  release: () => ({
    js: RELEASE,
    css: customProperty(document.documentElement, '--release'),
    lazy: lazyRelease,
    lazyCss: customProperty(document.querySelector('.lazy-target'), '--lazy-release'),
  }),
  loadLazy,
};

runChecks();
