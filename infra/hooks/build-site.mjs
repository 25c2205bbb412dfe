// azd hook (azure.yaml): builds the sample landing page for its Static Web App.
//
//   predeploy:   node infra/hooks/build-site.mjs            copy wwwroot to web/dist and write web/dist/config.js
//   postdeploy:  node infra/hooks/build-site.mjs --announce print where the page is
//
// The page in functions/LeadFunctions/wwwroot stays the local one (./run.sh serves it from the app, config.js empty);
// the deployed copy's config.js names the function app (or Front Door) from the provisioned outputs, which azd
// passes to hooks as environment variables. Options for a run by hand or a test: --out <folder>, --api <url>.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

const siteUrl = process.env.LEADFUNCTIONS_SITE_URL || process.env.SERVICE_WEB_ENDPOINT_URL || '';

if (args.includes('--announce')) {
  if (siteUrl) console.log(`\nSample landing page: ${siteUrl}\n`);
  process.exit(0);
}

const api = option('--api') || process.env.LEADFUNCTIONS_API_URL || process.env.AZURE_FUNCTION_URL || '';
let apiBaseUrl;
try {
  const url = new URL(api);
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.username || url.search || url.hash) throw new Error();
  apiBaseUrl = url.href.replace(/\/+$/, '');
} catch {
  console.error(`build-site: the API URL '${api}' is not an absolute https URL. Run 'azd provision' first (it sets LEADFUNCTIONS_API_URL), or pass --api <url>.`);
  process.exit(1);
}

const source = join(root, 'functions', 'LeadFunctions', 'wwwroot');
const out = resolve(option('--out') || join(root, 'web', 'dist'));
if (!existsSync(join(source, 'index.html'))) {
  console.error(`build-site: no sample page at ${source}.`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(source, out, { recursive: true });
// JSON.stringify quotes the URL, so nothing in it can break out of the string.
writeFileSync(join(out, 'config.js'),
  '/* Written by infra/hooks/build-site.mjs at deploy time: where this page sends forms and events. */\n' +
  `window.leadFunctionsConfig = { apiBaseUrl: ${JSON.stringify(apiBaseUrl)} };\n`);
console.log(`build-site: ${out} (forms and events go to ${apiBaseUrl})`);
