// Runs the add-in's real client code — the JavaScript `putuo-xl serve` serves: xlwings Server's
// Office.js client (runPython, getBookData, the action dispatch and its callbacks), our auth.js,
// ribbon.js and the task pane scripts, and the worksheet functions' code — under Node, against
// the Excel double, talking to a live server.
//
//   node client.mjs SPEC.json OUT.json
//
// SPEC: {server, code, apiVersion, platform, workbook: {name, sheets: [{name, rows}]},
//        steps: [{press: "refresh-rollup"} | {call: "UNIT_RATE", args: [..], address: "Sheet1!C3"}
//                | {upload: [{path, name, lastModified}], received: {name: "2020-08-30"}}
//                | {download: true | "report" | "bulletin"} | {signIn: code} | {month: "2020-08"}]}
// OUT: per step what the client sent and got, the alerts shown, the actions dispatched, the
// response sizes and the dispatch time; then the workbook as the double holds it.
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import vm from "node:vm";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

import { ExcelDouble, WorkbookState, SheetState, officeDouble } from "./excel-double.mjs";
import { installBrowser, traffic } from "./browser.mjs";

// Scripts of the page that are not the add-in's logic: libraries for the page's look (htmx,
// Bootstrap, Alpine, socket.io), Office.js itself (the double replaces it) and the task pane's
// reload helper.
const SKIP = [/\/vendor\//, /\/integrations\//, /\/officejs\//, /\/js\/main\.js$/, /\/js\/examples\.js$/,
  /custom-functions-reload\.js$/];

async function getText(base, urlPath) {
  const r = await fetch(new URL(urlPath, base));
  if (!r.ok) throw new Error(`GET ${urlPath}: ${r.status}`);
  return await r.text();
}

async function fetchModuleTree(base, urlPath, root, seen) {
  if (seen.has(urlPath)) return;
  seen.add(urlPath);
  const code = await getText(base, urlPath);
  const file = path.join(root, urlPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, code);
  for (const m of code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/g)) {
    if (m[1].startsWith(".")) await fetchModuleTree(base, new URL(m[1], new URL(urlPath, base)).pathname, root, seen);
  }
}

function pageScripts(html) {
  const out = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    const attrs = m[1];
    const src = /\bsrc="([^"]+)"/.exec(attrs)?.[1];
    const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
    out.push({ src, id, module: /type="module"/.test(attrs), defer: /\bdefer\b/.test(attrs), inline: m[2] });
  }
  return out;
}

export async function loadClient(spec) {
  const base = spec.server;
  const html = await getText(base, "/taskpane.html");
  const scripts = pageScripts(html);
  const configJson = scripts.find((s) => s.id === "config").inline.trim();
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  const browser = installBrowser({ origin: base, configJson, elementIds: ids });
  const workbook = new WorkbookState({ name: spec.workbook?.name || "活頁簿1.xlsx",
    sheets: (spec.workbook?.sheets || [{ name: "工作表1" }]).map((s) => s.name) });
  for (const s of spec.workbook?.sheets || []) {
    const sheet = workbook.sheetByName(s.name);
    (s.rows || []).forEach((row, r) => row.forEach((v, c) => {
      if (v === null || v === undefined || v === "") return;
      const cell = sheet.store.ensure(r, c);
      cell.value = v;
      if (typeof v === "string" && v.startsWith("=")) { cell.formula = v; cell.value = ""; }
    }));
    if (s.visibility) sheet.visibility = s.visibility;
  }
  const double = new ExcelDouble({ apiVersion: spec.apiVersion || "1.17", platform: spec.platform || "PC", workbook });
  if (spec.workbook?.base64) {
    // a workbook file the official opened (a master saved earlier): its sheets and names
    const starter = workbook.sheets[0];
    double.insertFromBase64(spec.workbook.base64, { positionType: "End", preload: true });
    if (!starter.store.cells.size) workbook.sheets.splice(workbook.sheets.indexOf(starter), 1);
    workbook.active = workbook.sheets.find((s) => s.visibility === "Visible");
    workbook.selection = { sheet: workbook.active, address: "A1" };
    for (const [name, formula] of spec.workbook.names || []) workbook.names.set(name.toLowerCase(), { name, formula, comment: "" });
  }
  double.install(globalThis);
  const shownDialogs = [];
  const associations = new Map();
  const taskpane = {};
  globalThis.Office = officeDouble(double, { shownDialogs, associations, taskpane });
  const customFunctions = new Map();
  // the CustomFunctions namespace as the functions' code uses it (errors Excel shows in the cell)
  globalThis.CustomFunctions = {
    associate: (name, fn) => customFunctions.set(name, fn),
    ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A", divisionByZero: "#DIV/0!",
      invalidNumber: "#NUM!", nullReference: "#NULL!", invalidName: "#NAME?", invalidReference: "#REF!" },
    Error: class CustomFunctionsError extends Error {
      constructor(code, message) { super(message || code); this.code = code; }
    },
  };
  if (spec.code) localStorage.setItem("putuo-xl.access-code", spec.code);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), "putuo-client-"));
  // a browser runs type="module" scripts as modules whatever their extension; Node before
  // 20.19 (Debian bookworm's 18) needs to be told
  fs.writeFileSync(path.join(root, "package.json"), '{"type": "module"}');
  const classic = [];
  const modules = [];
  for (const s of scripts) {
    if (!s.src) continue;
    const u = new URL(s.src.replace(/^\{\{.*?\}\}/, ""), base).pathname;
    if (SKIP.some((re) => re.test(u))) continue;
    if (s.module) modules.push(u); else classic.push({ path: u, defer: s.defer });
  }
  // order as a browser runs them: classic scripts in document order while parsing, then
  // deferred classic scripts and modules in document order, then DOMContentLoaded
  const run = async (u) => {
    const code = await getText(base, u);
    vm.runInThisContext(code, { filename: u });
  };
  for (const c of classic.filter((c) => !c.defer)) await run(c.path);
  const seen = new Set();
  for (const m of modules) {
    await fetchModuleTree(base, m, root, seen);
    await import(pathToFileURL(path.join(root, m)).href);
  }
  for (const c of classic.filter((c) => c.defer)) await run(c.path);
  await browser.fire("DOMContentLoaded");
  return { double, browser, shownDialogs, associations, customFunctions, taskpane, root };
}

async function pressButton(client, functionName) {
  const fn = client.associations.get(functionName);
  if (!fn) throw new Error(`No ribbon button bound to ${functionName} (Office.actions.associate)`);
  let completed = false;
  await fn({ completed: () => { completed = true; } });
  if (!completed) throw new Error(`${functionName}: event.completed() was not called`);
}

async function callFunction(client, name, args, address) {
  const fn = client.customFunctions.get(name);
  if (!fn) throw new Error(`No worksheet function ${name} (CustomFunctions.associate)`);
  let result;
  let error = null;
  const invocation = { address, setResult: (v) => { result = v; }, onCanceled: null };
  try {
    result = await fn(...args, invocation);
  } catch (e) {
    error = e?.message || String(e);
  }
  return { result, error };
}

function summarizeTraffic(since, dispatchEnd) {
  const recs = traffic.slice(since);
  const out = [];
  for (const r of recs) {
    let actions = null;
    let funcs = null;
    try {
      const data = JSON.parse(r.body);
      if (Array.isArray(data?.actions)) {
        actions = data.actions.length;
        funcs = {};
        for (const a of data.actions) funcs[a.func] = (funcs[a.func] || 0) + 1;
      }
    } catch { /* not JSON */ }
    out.push({ method: r.method, url: r.url, status: r.status, requestBytes: r.requestBytes,
      responseBytes: r.responseBytes, actions, funcs,
      dispatchMs: dispatchEnd && r.receivedAt ? Math.round(dispatchEnd - r.receivedAt) : null,
      detail: r.status >= 400 ? r.body.slice(0, 500) : undefined });
  }
  return out;
}

async function runStep(client, step) {
  const since = traffic.length;
  const dialogsBefore = client.shownDialogs.length;
  const eventsBefore = client.double.events.length;
  const convBefore = client.double.conversions.length;
  const shownBefore = client.taskpane.shown || 0;
  const r = { step };
  const errors = [];
  const origError = console.error;
  console.error = (...a) => errors.push(a.map((x) => (x instanceof Error ? `${x.message}` : String(x))).join(" "));
  const t0 = performance.now();
  try {
    if (step.press) await pressButton(client, step.press);
    else if (step.call) Object.assign(r, await callFunction(client, step.call, step.args || [], step.address || "Sheet1!A1"));
    else if (step.signIn !== undefined) {
      client.browser.element("putuo-signin-code").value = step.signIn;
      await client.browser.element("putuo-signin-save").dispatch("click");
      r.status = client.browser.element("putuo-signin-status").textContent;
    } else if (step.upload) {
      const input = client.browser.element("putuo-returns-input");
      input.files = step.upload.map((f) => new File([fs.readFileSync(f.path)], f.name, { lastModified: f.lastModified }));
      await input.dispatch("change");
      r.listed = {};
      for (const f of step.upload) r.listed[f.name] = client.browser.elements.get(`putuo-received-${f.name}`)?.value ?? null;
      for (const [name, date] of Object.entries(step.received || {})) {
        const field = client.browser.elements.get(`putuo-received-${name}`);
        if (!field) throw new Error(`no 收件日期 field for ${name}`);
        field.value = date;
      }
      await client.browser.element("putuo-upload-returns").dispatch("click");
      r.status = client.browser.element("putuo-files-result").textContent;
    } else if (step.download) {
      const which = step.download === true ? "forms" : step.download;
      await client.browser.element(`putuo-download-${which}`).dispatch("click");
      r.status = client.browser.element("putuo-files-result").textContent;
    } else if (step.month !== undefined) {
      r.suggested = client.browser.element("putuo-month").value;
      if (step.month !== null) client.browser.element("putuo-month").value = step.month;
      await client.browser.element("putuo-month-save").dispatch("click");
      r.status = client.browser.element("putuo-month-status").textContent;
    } else if (step.select) {
      const [sheet, address] = step.select.split("!");
      const st = client.double.state;
      const s = st.sheetByName(sheet);
      if (!s) throw new Error(`no sheet ${sheet}`);
      st.active = s;
      st.selection = { sheet: s, address };
    } else if (step.export) {
      r.workbook = client.double.exportWorkbook();
      r.brokenRefs = client.double.brokenRefs;
      r.createdWorkbooks = client.double.createdWorkbooks;
    } else {
      throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
  } catch (e) {
    r.thrown = e?.stack || String(e);
  } finally {
    console.error = origError;
  }
  const end = performance.now();
  r.ms = Math.round(end - t0);
  r.requests = summarizeTraffic(since, end);
  r.dialogs = client.shownDialogs.slice(dialogsBefore);
  r.events = client.double.events.slice(eventsBefore);
  r.conversions = client.double.conversions.slice(convBefore);
  r.consoleErrors = errors;
  r.taskpaneShown = (client.taskpane.shown || 0) - shownBefore;
  return r;
}

async function main() {
  // node client.mjs SPEC.json [OUT.json]: without OUT, steps come as JSON lines on stdin and
  // each result goes out as one JSON line on stdout (the tests drive a month this way)
  const [specPath, outPath] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(specPath, "utf8"));
  const log = console.log;
  console.log = (...a) => process.stderr.write(a.join(" ") + "\n");   // stdout is ours
  console.warn = console.log;
  const client = await loadClient(spec);
  if (outPath) {
    const results = [];
    for (const step of spec.steps || []) results.push(await runStep(client, step));
    results.push(await runStep(client, { export: true }));
    fs.writeFileSync(outPath, JSON.stringify({ steps: results }));
  } else {
    log(JSON.stringify({ ready: true }));
    const rl = readline.createInterface({ input: process.stdin });
    for await (const line of rl) {
      if (!line.trim()) continue;
      const step = JSON.parse(line);
      if (step.quit) break;
      log(JSON.stringify(await runStep(client, step)));
    }
  }
  fs.rmSync(client.root, { recursive: true, force: true });
  process.exit(0);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e?.stack || String(e));
    process.exit(2);
  });
}
