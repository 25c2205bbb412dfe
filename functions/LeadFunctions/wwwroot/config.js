/*
 * Where this sample page sends forms and events. Empty: the app that serves the page (./run.sh serves wwwroot).
 * `azd deploy` copies wwwroot to web/dist and writes config.js there with the function app's URL
 * (infra/hooks/build-site.mjs), so this copy always stays the local one.
 */
window.leadFunctionsConfig = { apiBaseUrl: '' };
