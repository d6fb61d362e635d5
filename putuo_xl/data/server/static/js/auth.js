// putuo-xl sign-in: xlwings Server's client-side auth hook (globalThis.getAuth), which the
// ribbon, the task pane buttons and the worksheet functions call before every request.
// - Offices with Entra ID (XLWINGS_AUTH_PROVIDERS=["entraid"]): xlwings' own token.
// - Otherwise the official's personal access code (訪問碼, from `putuo-xl serve user add`),
//   typed once into the task pane's 登錄 box and kept in this add-in's local storage.
// Every request also carries X-Putuo-Project: the calling workbook's project key from its
// _meta sheet, so the server finds the project by the master's own key, never by a name.
const PUTUO_CODE_KEY = "putuo-xl.access-code";
const PUTUO_META_SHEET = "_meta";
const PUTUO_PROJECT_KEY = "server_project";

function putuoConfig() {
  if (globalThis.config) return globalThis.config;
  const el = document.getElementById("config");
  return el ? JSON.parse(el.textContent) : { authProviders: [] };
}

function putuoStoredCode() {
  try {
    return (globalThis.localStorage && localStorage.getItem(PUTUO_CODE_KEY)) || "";
  } catch (e) {
    return "";
  }
}

let putuoProjectCache = { at: 0, key: "" };

async function putuoProjectKey() {
  // the calling workbook's _meta!server_project (cached for a few seconds)
  const now = Date.now();
  if (putuoProjectCache.key && now - putuoProjectCache.at < 5000) return putuoProjectCache.key;
  let key = "";
  try {
    key = await Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItemOrNullObject(PUTUO_META_SHEET);
      await context.sync();
      if (sheet.isNullObject) return "";
      const used = sheet.getUsedRangeOrNullObject(true);
      used.load("values");
      await context.sync();
      if (used.isNullObject) return "";
      for (const row of used.values) {
        if (row[0] === PUTUO_PROJECT_KEY) return String(row[1] || "");
      }
      return "";
    });
  } catch (e) {
    key = "";
  }
  putuoProjectCache = { at: now, key: key };
  return key;
}

function putuoExcelApi() {
  // the highest ExcelApi requirement set this Excel supports (1.1 … 1.30)
  let best = "";
  try {
    for (let v = 1; v <= 30; v++) {
      if (Office.context.requirements.isSetSupported("ExcelApi", `1.${v}`)) best = `1.${v}`;
      else break;
    }
  } catch (e) {
    best = "";
  }
  return best;
}

function putuoPlatform() {
  try {
    return String((Office.context.diagnostics && Office.context.diagnostics.platform) || Office.context.platform || "");
  } catch (e) {
    return "";
  }
}

function putuoWrapRequests() {
  // xlwings' HTTP helper (utils.js publishes it as globalThis.xwRequest; runPython and the
  // worksheet functions both post through it): add the project header to every post.
  const req = globalThis.xwRequest;
  if (!req || req.putuoWrapped) return;
  const post = req.post;
  req.post = async (url, body, opts = {}) => {
    const headers = { ...(opts.headers || {}) };
    const key = await putuoProjectKey();
    if (key) headers["X-Putuo-Project"] = encodeURIComponent(key);   // headers are ASCII
    // what this Excel can do: the server sends whole sheets as one file where it can
    const api = putuoExcelApi();
    if (api) headers["X-Putuo-ExcelApi"] = api;
    const platform = putuoPlatform();
    if (platform) headers["X-Putuo-Platform"] = platform;
    return post(url, body, { ...opts, headers: headers });
  };
  req.putuoWrapped = true;
}

globalThis.getAuth = async function () {
  putuoWrapRequests();
  const config = putuoConfig();
  if ((config.authProviders || []).includes("entraid")) {
    const token = await xlwings.getAccessToken();
    return { token: token, provider: "entraid" };
  }
  const code = putuoStoredCode();
  return { token: code ? "Bearer " + code : "", provider: code ? "putuo" : "" };
};

globalThis.putuoProjectKey = putuoProjectKey;

// -- the task pane's 登錄 box --------------------------------------------------------------
async function putuoWhoAmI() {
  const auth = await globalThis.getAuth();
  const base = window.location.origin + (putuoConfig().appPath || "");
  const headers = {};
  if (auth.token) headers["Authorization"] = auth.token;
  if (auth.provider) headers["Auth-Provider"] = auth.provider;
  const response = await fetch(base + "/putuo/whoami", { headers: headers });
  const text = await response.text();
  let data = {};
  try {
    data = JSON.parse(text);
  } catch (e) {
    data = { detail: text };
  }
  return { ok: response.ok, data: data };
}

async function putuoShowSignIn() {
  const box = document.getElementById("putuo-signin-status");
  if (!box) return;
  const result = await putuoWhoAmI();
  if (result.ok) {
    box.className = "small mt-1 text-success";
    box.textContent = "已登錄:" + result.data.name + "(可以:" + (result.data.can || []).join(";") + ")";
  } else {
    box.className = "small mt-1 text-danger";
    box.textContent = result.data.detail || "沒有登錄。";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("putuo-signin");
  if (!form) return;
  if ((putuoConfig().authProviders || []).includes("entraid")) {
    form.classList.add("d-none");
    return;
  }
  const input = document.getElementById("putuo-signin-code");
  document.getElementById("putuo-signin-save").addEventListener("click", async () => {
    const code = (input.value || "").trim();
    if (code) localStorage.setItem(PUTUO_CODE_KEY, code);
    input.value = "";
    await putuoShowSignIn();
  });
  document.getElementById("putuo-signin-clear").addEventListener("click", async () => {
    localStorage.removeItem(PUTUO_CODE_KEY);
    await putuoShowSignIn();
  });
  putuoShowSignIn();
});
