// putuo-xl task pane: the month's forms, the year's 年度報告 and the month's 通報 as zips (download) and
// returned files into the month's returns folder on the server (upload). The server finds the folders from the
// workbook's 設置 and _meta sheets, which are sent like a script call; see
// putuo_xl/excel/routes.py. Authentication as for the scripts (globalThis.getAuth).

// The sheets sent: must equal putuo_xl.excel.exchange.BOOK_SHEETS (a test checks it).
const PUTUO_BOOK_SHEETS = "設置,设置,_meta";

function putuoBase() {
  const el = document.getElementById("config");
  const cfg = el ? JSON.parse(el.textContent) : {};
  return window.location.origin + (cfg.appPath || "");
}

async function putuoAuthHeaders() {
  const auth =
    typeof globalThis.getAuth === "function"
      ? await globalThis.getAuth()
      : { token: "", provider: "" };
  // X-Putuo-Client: a header a cross-site page cannot send without the server's consent
  const headers = { "X-Putuo-Client": "taskpane" };
  if (auth.token) headers["Authorization"] = auth.token;
  if (auth.provider) headers["Auth-Provider"] = auth.provider;
  if (globalThis.putuoProjectKey) {
    const key = await globalThis.putuoProjectKey();
    if (key) headers["X-Putuo-Project"] = encodeURIComponent(key);
  }
  return headers;
}

async function putuoBookData() {
  // only 設置 and _meta: the other sheets are sent as empty
  return await xlwings.getBookData({ include: PUTUO_BOOK_SHEETS, headers: {} });
}

async function putuoError(response) {
  const text = await response.text();
  try {
    const data = JSON.parse(text);
    return data.detail || data.error || text;
  } catch (e) {
    return text || response.statusText;
  }
}

function putuoShow(message, kind) {
  const box = document.getElementById("putuo-files-result");
  box.className = "small mt-2 alert " + (kind === "error" ? "alert-danger" : "alert-success");
  box.textContent = message;
  return box;
}

async function putuoBusy(button, work) {
  button.setAttribute("disabled", "true");
  try {
    await work();
  } catch (error) {
    putuoShow(String(error && error.message ? error.message : error), "error");
  } finally {
    button.removeAttribute("disabled");
  }
}

async function putuoDownloadForms(event) {
  await putuoDownload(event.currentTarget, "/putuo/forms/link", "正在打包月報……");
}

async function putuoDownloadReport(event) {
  await putuoDownload(event.currentTarget, "/putuo/report/link", "正在打包年度報告……");
}

async function putuoDownloadBulletin(event) {
  await putuoDownload(event.currentTarget, "/putuo/bulletin/link", "正在打包通報……");
}

async function putuoDownload(button, path, busyText) {
  await putuoBusy(button, async () => {
    putuoShow(busyText);
    const response = await fetch(putuoBase() + path, {
      method: "POST",
      headers: { ...(await putuoAuthHeaders()), "Content-Type": "application/json" },
      body: JSON.stringify(await putuoBookData()),
    });
    if (!response.ok) {
      putuoShow(await putuoError(response), "error");
      return;
    }
    const info = await response.json();
    const url = window.location.origin + info.url;
    // the system browser saves the zip (task panes cannot always save files themselves)
    if (globalThis.Office && Office.context && Office.context.ui && Office.context.ui.openBrowserWindow) {
      Office.context.ui.openBrowserWindow(url);
    } else {
      window.open(url, "_blank");
    }
    const box = putuoShow(info.message + " 如果瀏覽器沒有開始下載,請點擊:");
    const link = document.createElement("a");
    link.href = url;
    link.textContent = info.name;
    link.setAttribute("download", info.name);
    link.className = "ms-1";
    box.appendChild(link);
  });
}

function putuoLocalDate(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function putuoListReturns() {
  // each chosen file with its 收件日期 (the file's time: when the e-mail was saved), editable
  const input = document.getElementById("putuo-returns-input");
  const list = document.getElementById("putuo-returns-list");
  list.replaceChildren();
  for (const file of input.files || []) {
    const row = document.createElement("div");
    row.className = "d-flex align-items-center mb-1";
    const name = document.createElement("span");
    name.className = "me-2 text-truncate";
    name.textContent = file.name;
    const date = document.createElement("input");
    date.type = "date";
    date.className = "form-control form-control-sm w-auto";
    date.id = "putuo-received-" + file.name;
    date.value = putuoLocalDate(file.lastModified || Date.now());
    date.setAttribute("aria-label", "收件日期:" + file.name);
    row.appendChild(name);
    row.appendChild(date);
    list.appendChild(row);
  }
}

function putuoReceived(files) {
  // {file name: {lastModified: ms, date: "YYYY-MM-DD" as the official left it}}
  const out = {};
  for (const file of files) {
    const field = document.getElementById("putuo-received-" + file.name);
    out[file.name] = { lastModified: file.lastModified || null, date: field ? field.value : null };
  }
  return out;
}

async function putuoUploadReturns(event) {
  const button = event.currentTarget;
  const input = document.getElementById("putuo-returns-input");
  await putuoBusy(button, async () => {
    if (!input.files || input.files.length === 0) {
      putuoShow("請先選擇要上傳的回報文件(.xlsx、.xlsm、.xls 或保存的郵件 .eml)。", "error");
      return;
    }
    putuoShow("正在上傳 " + input.files.length + " 份文件……");
    const form = new FormData();
    form.append("bookData", JSON.stringify(await putuoBookData()));
    form.append("received", JSON.stringify(putuoReceived(input.files)));
    for (const file of input.files) {
      form.append("files", file, file.name);
    }
    const response = await fetch(putuoBase() + "/putuo/returns", {
      method: "POST",
      headers: await putuoAuthHeaders(),
      body: form,
    });
    if (!response.ok) {
      putuoShow(await putuoError(response), "error");
      return;
    }
    const result = await response.json();
    putuoShow(result.message, result.saved.length || result.same.length ? "ok" : "error");
    input.value = "";
    document.getElementById("putuo-returns-list").replaceChildren();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const download = document.getElementById("putuo-download-forms");
  if (download) download.addEventListener("click", putuoDownloadForms);
  const report = document.getElementById("putuo-download-report");
  if (report) report.addEventListener("click", putuoDownloadReport);
  const bulletin = document.getElementById("putuo-download-bulletin");
  if (bulletin) bulletin.addEventListener("click", putuoDownloadBulletin);
  const upload = document.getElementById("putuo-upload-returns");
  if (upload) upload.addEventListener("click", putuoUploadReturns);
  const input = document.getElementById("putuo-returns-input");
  if (input) input.addEventListener("change", putuoListReturns);
});
