// putuo-xl: callbacks the server reaches with a `runMacro` action (xlwings' registerCallback),
// so that whole sheets travel as one .xlsx file instead of hundreds of cell actions.
// See putuo_xl/excel/transfer.py for the spec the server sends.

function putuoRequire(version, what) {
  if (!Office.context.requirements.isSetSupported("ExcelApi", version)) {
    throw new Error(`此版本的 Excel 不支持${what}(需要 ExcelApi ${version})。請使用 Microsoft 365 或 Excel 2021 及以後的版本。`);
  }
}

async function putuoSheets(context) {
  const sheets = context.workbook.worksheets;
  sheets.load("items/name,items/visibility");
  await context.sync();
  return sheets.items;
}

function putuoFind(items, name) {
  const key = name.toLowerCase();
  return items.find((s) => s.name.toLowerCase() === key) || null;
}

async function putuoPutSheets(context, specJson, base64) {
  putuoRequire("1.13", "把整張工作表放入工作簿");
  const spec = JSON.parse(specJson);
  const wb = context.workbook;
  let items = await putuoSheets(context);

  // 1. where the new sheets go: the place of the first sheet they replace, else before the
  //    first `before` sheet present, else at the end
  let next = null;
  const replaced = spec.replace.map((n) => putuoFind(items, n)).filter(Boolean);
  if (replaced.length) {
    const positions = items.map((s) => s.name);
    const first = Math.min(...replaced.map((s) => positions.indexOf(s.name)));
    const gone = new Set(replaced.map((s) => s.name));
    next = positions.slice(first).find((n) => !gone.has(n)) || null;
    // a sheet must stay visible while the others go
    const visibleLeft = items.filter((s) => s.visibility === "Visible" && !gone.has(s.name));
    if (visibleLeft.length === 0) {
      const keep = wb.worksheets.add("putuo-xl");
      keep.load("name");
    }
    for (const s of replaced) s.delete();
    await context.sync();
  } else {
    for (const n of spec.before) {
      const s = putuoFind(items, n);
      if (s) {
        next = s.name;
        break;
      }
    }
  }
  const options = { sheetNamesToInsert: spec.insert };
  if (next) {
    options.positionType = Excel.WorksheetPositionType.before;
    options.relativeTo = next;
  } else {
    options.positionType = Excel.WorksheetPositionType.end;
  }
  wb.insertWorksheetsFromBase64(base64, options);
  await context.sync();

  // 2. values of the temporary data sheets into the sheets formulas refer to
  items = await putuoSheets(context);
  for (const [temp, target] of spec.copies) {
    const from = putuoFind(items, temp);
    if (!from) throw new Error(`缺少工作表 ${temp}`);
    const to = putuoFind(items, target);
    if (!to) {
      from.name = target;
      continue;
    }
    putuoRequire("1.9", "複製工作表數據");
    const oldUsed = to.getUsedRangeOrNullObject(true);
    const newUsed = from.getUsedRangeOrNullObject(true);
    oldUsed.load("address");
    newUsed.load("address");
    await context.sync();
    if (!oldUsed.isNullObject) oldUsed.clear(Excel.ClearApplyTo.contents);
    if (!newUsed.isNullObject) {
      const address = newUsed.address.split("!").pop();
      to.getRange(address).copyFrom(newUsed, Excel.RangeCopyType.values);
    }
    from.delete();
    await context.sync();
  }

  // 3. workbook names
  for (const [name, formula] of spec.names) {
    const old = wb.names.getItemOrNullObject(name);
    await context.sync();
    if (!old.isNullObject) old.delete();
    wb.names.add(name, formula);
  }
  await context.sync();

  // 4. charts and cell notes the host could not insert with their sheet (Excel on the web);
  //    notes need ExcelApi 1.18 — without it they stay on the 說明 sheet's list
  for (const c of spec.charts) putuoAddChart(wb.worksheets.getItem(c.sheet), c);
  if ((spec.notes || []).length && Office.context.requirements.isSetSupported("ExcelApi", "1.18")) {
    for (const [sheet, cell, text] of spec.notes) wb.worksheets.getItem(sheet).notes.add(cell, text);
  }
  await context.sync();

  // 5. visibility, starter sheets, the active sheet
  items = await putuoSheets(context);
  for (const n of spec.hidden) {
    const s = putuoFind(items, n);
    if (s) s.visibility = Excel.SheetVisibility.hidden;
  }
  for (const n of spec.removeIfEmpty) {
    const s = putuoFind(items, n);
    if (!s) continue;
    const used = s.getUsedRangeOrNullObject(true);
    await context.sync();
    if (used.isNullObject) s.delete();
  }
  if (spec.activate) {
    const s = putuoFind(items, spec.activate);
    if (s) s.activate();
  }
  await context.sync();
}

function putuoAddChart(sheet, c) {
  const first = sheet.getRange(c.categories.split("!").pop());
  const chart = sheet.charts.add(c.type, first, Excel.ChartSeriesBy.rows);
  // the range given to add() is only the categories row: start from no series
  chart.series.getItemAt(0).delete();
  for (const s of c.series) {
    const series = chart.series.add(s.name);
    series.setValues(sheet.getRange(s.values.split("!").pop()));
    series.setXAxisValues(first);
    series.format.line.color = s.color;
    if (c.type === "ColumnStacked") series.format.fill.setSolidColor(s.color);
  }
  chart.title.text = c.title;
  chart.legend.position = "Bottom";
  if (c.percent) {
    chart.axes.valueAxis.numberFormat = "0%";
    chart.axes.valueAxis.minimum = 0;
  }
  if (c.yTitle) chart.axes.valueAxis.title.text = c.yTitle;
  chart.setPosition(c.anchor);
  chart.width = c.width;
  chart.height = c.height;
}

// -- 報告月份: asked for in the task pane, never guessed --------------------------------------
let putuoMonthTarget = { sheet: "設置", cell: "B2" };

async function putuoAskMonth(context, sheet, cell, suggested) {
  putuoMonthTarget = { sheet: sheet, cell: cell };
  const input = document.getElementById("putuo-month");
  if (input) input.value = suggested;
  const status = document.getElementById("putuo-month-status");
  if (status) status.textContent = `請確認報告月份(建議 ${suggested}),按「寫入設置」,再按一次剛才的按鈕。`;
  if (Office.addin && Office.addin.showAsTaskpane) await Office.addin.showAsTaskpane();
}

async function putuoSaveMonth() {
  const input = document.getElementById("putuo-month");
  const status = document.getElementById("putuo-month-status");
  const value = (input.value || "").trim();
  if (!/^\d{4}-\d{2}$/.test(value)) {
    status.textContent = "請選擇月份(如 2020-08)。";
    return;
  }
  await Excel.run(async (context) => {
    const sheets = context.workbook.worksheets;
    let sheet = sheets.getItemOrNullObject(putuoMonthTarget.sheet);
    await context.sync();
    if (sheet.isNullObject) {
      for (const name of ["設置", "设置"]) {
        sheet = sheets.getItemOrNullObject(name);
        await context.sync();
        if (!sheet.isNullObject) break;
      }
    }
    if (sheet.isNullObject) {
      // no 設置 yet: a minimal one (the buttons add the other rows' defaults themselves)
      sheet = sheets.add(putuoMonthTarget.sheet);
      const head = sheet.getRange("A1:B2");
      head.numberFormat = [["@", "@"], ["@", "@"]];
      head.values = [["項目", "值"], ["報告月份", ""]];
      putuoMonthTarget.cell = "B2";
    }
    const range = sheet.getRange(putuoMonthTarget.cell);
    range.numberFormat = [["@"]];        // text: Excel would make 2020-08 a date
    range.values = [[value]];
    await context.sync();
  });
  status.textContent = `報告月份已寫入「${putuoMonthTarget.sheet}」${putuoMonthTarget.cell}:${value}。請再按一次剛才的按鈕。`;
}

async function putuoOpenWorkbook(context, base64) {
  putuoRequire("1.8", "新建工作簿");
  await Excel.createWorkbook(base64);
}

document.addEventListener("DOMContentLoaded", () => {
  xlwings.registerCallback(putuoPutSheets);
  xlwings.registerCallback(putuoOpenWorkbook);
  xlwings.registerCallback(putuoAskMonth);
  const save = document.getElementById("putuo-month-save");
  if (save) {
    save.addEventListener("click", async () => {
      try {
        await putuoSaveMonth();
      } catch (error) {
        document.getElementById("putuo-month-status").textContent = String(error && error.message ? error.message : error);
      }
    });
  }
});
