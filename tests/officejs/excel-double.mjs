// An Excel JavaScript API double for running the add-in's real client code under Node.
//
// It implements the calls that xlwings Server's Office.js client (getBookData, the action
// callbacks) and putuo-xl's own scripts make, and enforces the rules Microsoft's Excel
// JavaScript API reference documents for them:
// - requests are batched: a failing call fails the next context.sync(), calls after it in the
//   same batch are not carried out;
// - a property can be read only after load() and sync() (PropertyNotLoaded);
// - a worksheet, table or name must exist when it is used (ItemNotFound); a method of a newer
//   requirement set than the host supports does not exist (ApiNotFound);
// - values/formulas/numberFormat arrays have the range's dimensions (InvalidArgument);
// - sheet names: at most 31 characters, unique ignoring case, none of []:*?/\, not blank,
//   no leading or trailing apostrophe, not "History" (InvalidArgument);
// - a string written as a value is typed as Excel types it (a number, a date in the host's
//   culture, a percentage, a formula) unless the cell's number format is text ("@");
// - locked cells of a protected sheet cannot be changed (AccessDenied);
// - insertWorksheetsFromBase64: in Excel on the web a source sheet with a chart, pivot table,
//   comment or slicer is UnsupportedFeature; an inserted sheet never takes an existing name.
// Beyond the reference, the double is strict: a formula may refer only to sheets, tables and
// names that exist when it is set; anything not implemented here throws "not implemented in
// the Excel double" instead of doing nothing. Formula results are not computed: a formula
// cell reads back the value cached in the file it came from (or ""); the saved workbook is
// recalculated by LibreOffice.
import XLSX from "xlsx";

export class RichApiError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "RichApi.Error";
    this.code = code;
  }
}

const API_SETS = {
  // method/property -> first ExcelApi version that has it
  getItemOrNullObject: "1.4", getUsedRangeOrNullObject: "1.4", getRangeByIndexes: "1.7",
  insertWorksheetsFromBase64: "1.13", copyFrom: "1.9", getRangeOrNullObject: "1.4",
  suspendScreenUpdatingUntilNextSync: "1.9", getPrintAreaOrNullObject: "1.9",
  createWorkbook: "1.8", getSurroundingRegion: "1.7", notes: "1.18", getRanges: "1.9",
  showGridlines: "1.8", cultureInfo: "1.11", datetimeFormat: "1.12",
};

function versionAtLeast(have, need) {
  const [a, b] = have.split(".").map(Number);
  const [c, d] = need.split(".").map(Number);
  return a > c || (a === c && b >= d);
}

// -- addresses ---------------------------------------------------------------------------------
export function colName(index) {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

function colIndex(letters) {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

const MAX_ROWS = 1048576;
const MAX_COLS = 16384;

function parseAddress(address) {
  // "A1", "A1:C3", "A:C", "3:5", with optional $; no sheet part
  const a = address.replace(/\$/g, "").toUpperCase();
  const cell = (s) => {
    const m = /^([A-Z]{1,3})?(\d+)?$/.exec(s);
    if (!m || (!m[1] && !m[2])) throw new RichApiError("InvalidArgument", `Bad address: ${address}`);
    return { c: m[1] ? colIndex(m[1]) : null, r: m[2] ? Number(m[2]) - 1 : null };
  };
  const [p, q] = a.includes(":") ? a.split(":") : [a, a];
  const s = cell(p);
  const e = cell(q);
  const r0 = s.r ?? 0;
  const c0 = s.c ?? 0;
  const r1 = e.r ?? MAX_ROWS - 1;
  const c1 = e.c ?? MAX_COLS - 1;
  if (r1 < r0 || c1 < c0) throw new RichApiError("InvalidArgument", `Bad address: ${address}`);
  return { r0, c0, r1, c1 };
}

export function addressOf(r0, c0, r1, c1) {
  const a = `${colName(c0)}${r0 + 1}`;
  return r0 === r1 && c0 === c1 ? a : `${a}:${colName(c1)}${r1 + 1}`;
}

function quoteSheet(name) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

// -- what Excel does with a typed string ---------------------------------------------------------
const DATE_PATTERNS = [
  [/^(\d{4})-(\d{1,2})-(\d{1,2})(?:T[\d:.]+)?$/, (m) => [m[1], m[2], m[3]], "yyyy/m/d"],
  [/^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, (m) => [m[1], m[2], m[3]], "yyyy/m/d"],
  [/^(\d{4})年(\d{1,2})月(\d{1,2})日$/, (m) => [m[1], m[2], m[3]], 'yyyy"年"m"月"d"日"'],
  [/^(\d{4})-(\d{1,2})$/, (m) => [m[1], m[2], 1], "yyyy/m"],
  [/^(\d{4})\/(\d{1,2})$/, (m) => [m[1], m[2], 1], "yyyy/m"],
  [/^(\d{4})年(\d{1,2})月$/, (m) => [m[1], m[2], 1], 'yyyy"年"m"月"'],
  [/^(\d{1,2})月(\d{1,2})日$/, (m) => [new Date().getFullYear(), m[1], m[2]], 'm"月"d"日"'],
];

function serialOf(y, m, d) {
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const dt = new Date(ms);
  if (dt.getUTCMonth() !== Number(m) - 1 || dt.getUTCDate() !== Number(d)) return null;
  return ms / 86400000 + 25569;
}

function isDateFormat(fmt) {
  return typeof fmt === "string" && fmt !== "General" && fmt !== "@"
    && /[ymd]/i.test(fmt.replace(/"[^"]*"/g, "").replace(/\[[^\]]*\]/g, ""));
}

export function typedValue(value, numberFormat) {
  // What a cell holds after `range.values = [[value]]`: {value, formula, numberFormat}.
  if (typeof value !== "string") return { value: value ?? "", formula: null, numberFormat };
  if (numberFormat === "@") return { value, formula: null, numberFormat };
  if (value.startsWith("'")) return { value: value.slice(1), formula: null, numberFormat };
  if (value.startsWith("=") && value.length > 1) return { value: "", formula: value, numberFormat };
  const t = value.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return { value: Number(t), formula: null, numberFormat };
  const pct = /^([+-]?\d+\.?\d*)%$/.exec(t);
  if (pct) return { value: Number(pct[1]) / 100, formula: null, numberFormat: "0%" };
  for (const [re, parts, fmt] of DATE_PATTERNS) {
    const m = re.exec(t);
    if (m) {
      const s = serialOf(...parts(m));
      if (s !== null) return { value: s, formula: null, numberFormat: numberFormat === "General" ? fmt : numberFormat };
    }
  }
  if (/^(TRUE|FALSE)$/i.test(t)) return { value: t.toUpperCase() === "TRUE", formula: null, numberFormat };
  return { value, formula: null, numberFormat };
}

// -- formula references ----------------------------------------------------------------------
const FUNCTION_OR_CONSTANT = /^(TRUE|FALSE)$/i;

export function formulaReferences(formula) {
  // {sheets, tables, names} a formula refers to (string literals skipped)
  const body = formula.replace(/"(?:[^"]|"")*"/g, '""');
  const sheets = new Set();
  const tables = new Set();
  const names = new Set();
  const sheetRe = /(?:'((?:[^']|'')+)'|([^\s'!=(),:&+\-*/^<>;{}[\]]+))!/g;
  let m;
  while ((m = sheetRe.exec(body))) sheets.add((m[1] ?? m[2]).replace(/''/g, "'"));
  const noSheets = body.replace(sheetRe, " ");
  const tableRe = /([A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)\[/g;
  while ((m = tableRe.exec(noSheets))) tables.add(m[1]);
  const noTables = noSheets.replace(/([A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)?\[(?:[^[\]]|\[[^\]]*\])*\]/g, " ");
  const idRe = /([A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)(\s*\()?/g;
  while ((m = idRe.exec(noTables))) {
    const id = m[1];
    if (m[2]) continue;                                       // a function
    if (FUNCTION_OR_CONSTANT.test(id)) continue;
    if (/^\$?[A-Z]{1,3}\$?\d+$/i.test(id) || /^[A-Z]{1,3}$/i.test(id)) continue;   // A1, A (in A:A)
    if (/^_xlfn\./i.test(id)) continue;
    names.add(id);
  }
  return { sheets, tables, names };
}

// -- the workbook state ------------------------------------------------------------------------
let nextId = 1;

class CellStore {
  constructor() {
    this.cells = new Map();   // "r,c" -> {value, formula, numberFormat, format, locked}
  }
  get(r, c) {
    return this.cells.get(`${r},${c}`);
  }
  ensure(r, c) {
    const k = `${r},${c}`;
    let cell = this.cells.get(k);
    if (!cell) {
      cell = { value: "", formula: null, numberFormat: "General", format: {}, locked: true };
      this.cells.set(k, cell);
    }
    return cell;
  }
  used(valuesOnly) {
    let r0 = Infinity, c0 = Infinity, r1 = -1, c1 = -1;
    for (const [k, cell] of this.cells) {
      const has = cell.formula || (cell.value !== "" && cell.value !== null && cell.value !== undefined)
        || (!valuesOnly && (cell.numberFormat !== "General" || Object.keys(cell.format).length));
      if (!has) continue;
      const [r, c] = k.split(",").map(Number);
      r0 = Math.min(r0, r); c0 = Math.min(c0, c); r1 = Math.max(r1, r); c1 = Math.max(c1, c);
    }
    return r1 < 0 ? null : { r0, c0, r1, c1 };
  }
}

export class SheetState {
  constructor(name) {
    this.id = `{${String(nextId++).padStart(8, "0")}-0000-0000-0000-000000000000}`;
    this.name = name;
    this.visibility = "Visible";
    this.store = new CellStore();
    this.tables = [];       // {name, r0, c0, r1, c1, columns, showHeaders, ...}
    this.charts = [];       // {name, chartType, left, top, width, height, title, source}
    this.names = new Map();
    this.protected = false;
    this.printArea = null;
    this.frozen = null;
    this.showGridlines = true;
    this.merges = [];
    this.validations = [];
    this.columnWidths = new Map();
    this.rowHeights = new Map();
    this.notes = new Map();    // cell address -> text (notes, the legacy comments)
    this.hasPivots = false;
  }
}

export class WorkbookState {
  constructor({ name = "活頁簿1.xlsx", sheets = ["工作表1"], culture = "zh-CN" } = {}) {
    this.name = name;
    this.sheets = sheets.map((n) => new SheetState(n));
    this.names = new Map();     // name -> {formula, comment}
    this.active = this.sheets[0];
    this.selection = { sheet: this.sheets[0], address: "A1" };
    this.calculationMode = "Automatic";
    this.culture = culture;
  }
  sheetByName(name) {
    const key = String(name).toLowerCase();
    return this.sheets.find((s) => s.name.toLowerCase() === key || s.id === name);
  }
  findTable(name) {
    const key = name.toLowerCase();
    for (const s of this.sheets) for (const t of s.tables) if (t.name.toLowerCase() === key) return [s, t];
    return null;
  }
}

export function checkSheetName(state, name, except = null) {
  if (typeof name !== "string" || !name.trim()) throw new RichApiError("InvalidArgument", "The sheet name is blank.");
  if (name.length > 31) throw new RichApiError("InvalidArgument", `The sheet name "${name}" is longer than 31 characters.`);
  if (/[[\]:*?/\\]/.test(name)) throw new RichApiError("InvalidArgument", `The sheet name "${name}" contains one of []:*?/\\.`);
  if (name.startsWith("'") || name.endsWith("'")) throw new RichApiError("InvalidArgument", `The sheet name "${name}" begins or ends with an apostrophe.`);
  if (name.toLowerCase() === "history") throw new RichApiError("InvalidArgument", "History is a reserved sheet name.");
  const other = state.sheetByName(name);
  if (other && other !== except) throw new RichApiError("ItemAlreadyExists", `A sheet named "${name}" already exists.`);
}

function checkFormula(state, formula, sheet) {
  if (typeof formula !== "string" || !formula.startsWith("=")) return;
  const refs = formulaReferences(formula.slice(1));
  for (const s of refs.sheets) {
    if (!state.sheetByName(s)) {
      throw new RichApiError("InvalidArgument", `The formula ${formula} refers to the sheet "${s}", which does not exist.`);
    }
  }
  for (const t of refs.tables) {
    if (!state.findTable(t)) {
      throw new RichApiError("InvalidArgument", `The formula ${formula} refers to the table "${t}", which does not exist.`);
    }
  }
  for (const n of refs.names) {
    const known = state.names.has(n.toLowerCase()) || (sheet && sheet.names.has(n.toLowerCase()))
      || state.findTable(n);
    if (!known) throw new RichApiError("InvalidArgument", `The formula ${formula} refers to the name "${n}", which does not exist.`);
  }
}

// -- the client objects ----------------------------------------------------------------------
const NOT_IMPLEMENTED = (cls, prop) =>
  new RichApiError("NotImplemented", `${cls}.${String(prop)} is not implemented in the Excel double`);

function strict(obj, cls) {
  return new Proxy(obj, {
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || prop.startsWith("_")) return Reflect.get(target, prop, receiver);
      if (prop === "then" || prop === "toJSON") return undefined;   // not a promise; JSON.stringify
      throw NOT_IMPLEMENTED(cls, prop);
    },
    set(target, prop, value) {
      const desc = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(target), prop)
        || Object.getOwnPropertyDescriptor(target, prop);
      if (desc && (desc.set || desc.writable)) return Reflect.set(target, prop, value);
      if (prop.startsWith("_")) { target[prop] = value; return true; }
      throw NOT_IMPLEMENTED(cls, `${prop} (setter)`);
    },
  });
}

class ClientObject {
  constructor(ctx) {
    this._ctx = ctx;
    this._loaded = new Set();
    this._pendingLoad = new Set();
  }
  get context() {
    return this._ctx;
  }
  load(props) {
    const list = props === undefined ? ["*"]
      : Array.isArray(props) ? props
        : typeof props === "string" ? props.split(",")
          : Object.keys(props.select ? { [props.select]: 1 } : props);
    for (const p of list) {
      const path = String(p).trim();
      if (path) this._ctx._loads.push([this, path]);
    }
    return this;
  }
  _applyLoad(path) {
    const [head, ...rest] = path.split("/");
    if (head === "*") { this._loaded.add("*"); return; }
    if (rest.length) {
      const child = this[head];
      if (child instanceof ClientObject || (child && child._applyLoad)) child._applyLoad(rest.join("/"));
      else throw NOT_IMPLEMENTED(this.constructor.name, `load path ${path}`);
      return;
    }
    this._loaded.add(head);
    const child = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(this), head)
      && !this._scalars?.includes(head) ? null : null;
    void child;
  }
  _need(prop) {
    if (this._isNull && prop !== "isNullObject") return;
    if (!this._loaded.has(prop) && !this._loaded.has("*")) {
      throw new RichApiError("PropertyNotLoaded",
        `The property '${prop}' is not available. Before reading the property's value, call the load method on the containing object and call "context.sync()" on the associated request context.`);
    }
  }
  _do(fn) {
    return this._ctx._do(fn);
  }
  get isNullObject() {
    if (!this._synced) {
      throw new RichApiError("PropertyNotLoaded", "isNullObject is available after context.sync().");
    }
    return !!this._isNull;
  }
}

class CollectionBase extends ClientObject {
  // load("items"), load("items/name"), load("name, type") (properties of the items): the
  // items as they are at the sync, each with those properties loaded
  _children() { return []; }
  get items() {
    this._need("items");
    return this._snapshot;
  }
  _applyLoad(path) {
    this._loaded.add("items");
    if (this._snapAt !== this._ctx._double.syncs || !this._snapshot) {
      this._snapAt = this._ctx._double.syncs;
      this._snapshot = this._children();
      for (const c of this._snapshot) c._synced = true;
    }
    const sub = path === "items" || path === "*" ? "*" : path.startsWith("items/") ? path.slice(6) : path;
    for (const c of this._snapshot) {
      if (sub === "*") c._loaded.add("*"); else c._applyLoad(sub);
    }
  }
}

class RequestContext {
  constructor(double) {
    this._double = double;
    this._loads = [];
    this._error = null;
    this._objects = [];
    this.workbook = new Workbook(this);
    this.application = this.workbook.application;
    this.trackedObjects = strict({ add() {}, remove() {} }, "TrackedObjects");
  }
  _do(fn) {
    // run a request now, unless an earlier one of this batch failed
    if (this._error) return undefined;
    try {
      return fn();
    } catch (e) {
      this._error = e instanceof RichApiError ? e : new RichApiError("GeneralException", String(e?.message || e));
      return undefined;
    }
  }
  _track(obj) {
    this._objects.push(obj);
    return obj;
  }
  async sync() {
    this._double.syncs += 1;
    const loads = this._loads;
    this._loads = [];
    if (!this._error) {
      for (const [obj, path] of loads) {
        try {
          if (obj._resolve) obj._resolve();
          if (!obj._isNull) obj._applyLoad(path);
        } catch (e) {
          this._error = e instanceof RichApiError ? e : new RichApiError("GeneralException", String(e?.message || e));
          break;
        }
      }
    }
    // objects made since the last sync learn what they are (a null object, a used range)
    const fresh = this._objects;
    this._objects = [];
    for (const o of fresh) {
      if (o._resolve && !o._synced) {
        try { o._resolve(); } catch (e) { if (!this._error) this._error = e; }
      }
      o._synced = true;
    }
    await new Promise((r) => setImmediate(r));
    const err = this._error;
    this._error = null;
    if (err) throw err;
  }
}

class ClientResult {
  constructor(getter) {
    this._getter = getter;
    this._value = undefined;
  }
  get value() {
    if (this._value === undefined) this._value = this._getter();
    return this._value;
  }
}

class Application extends ClientObject {
  constructor(ctx) {
    super(ctx);
    this.cultureInfo = strict(new CultureInfo(ctx), "CultureInfo");
  }
  get calculationMode() { this._need("calculationMode"); return this._ctx._double.state.calculationMode; }
  set calculationMode(v) { this._do(() => { this._ctx._double.state.calculationMode = v; }); }
  suspendScreenUpdatingUntilNextSync() { this._ctx._double.requireApi("suspendScreenUpdatingUntilNextSync"); }
  suspendApiCalculationUntilNextSync() {}
  calculate() {}
}

class CultureInfo extends ClientObject {
  constructor(ctx) {
    super(ctx);
    this.datetimeFormat = strict(new DatetimeFormat(ctx), "DatetimeFormat");
  }
  get name() { this._need("name"); return this._ctx._double.state.culture; }
}

class DatetimeFormat extends ClientObject {
  get shortDatePattern() { this._need("shortDatePattern"); return "yyyy/M/d"; }
}

class Workbook extends ClientObject {
  constructor(ctx) {
    super(ctx);
    this.worksheets = strict(new WorksheetCollection(ctx), "WorksheetCollection");
    this.names = strict(new NamedItemCollection(ctx, null), "NamedItemCollection");
    this.application = strict(new Application(ctx), "Application");
  }
  get name() { this._need("name"); return this._ctx._double.state.name; }
  getSelectedRange() {
    const st = this._ctx._double.state;
    return this._ctx._track(makeRange(this._ctx, () => st.selection.sheet, st.selection.address));
  }
  getActiveCell() {
    const st = this._ctx._double.state;
    const first = st.selection.address.split(":")[0];
    return this._ctx._track(makeRange(this._ctx, () => st.selection.sheet, first));
  }
  insertWorksheetsFromBase64(base64, options = {}) {
    const d = this._ctx._double;
    d.requireApi("insertWorksheetsFromBase64");
    d.calls.push(["insertWorksheetsFromBase64", base64.length]);
    const result = new ClientResult(() => inserted);
    let inserted = [];
    this._do(() => { inserted = d.insertFromBase64(base64, options); });
    return result;
  }
}

class WorksheetCollection extends ClientObject {
  get items() {
    this._need("items");
    return this._itemsSnapshot;
  }
  _applyLoad(path) {
    const [head, ...rest] = path.split("/");
    if (head === "items" || head === "*" || head === "name" || head === "visibility" || head === "position") {
      this._loaded.add("items");
      if (this._snapAt !== this._ctx._double.syncs) {     // one snapshot per sync, all paths on it
        this._snapAt = this._ctx._double.syncs;
        this._itemsSnapshot = this._ctx._double.state.sheets.map((s) => worksheetProxy(this._ctx, s));
      }
      const sub = head === "items" ? rest.join("/") : path;
      for (const w of this._itemsSnapshot) {
        if (sub) w._applyLoad(sub); else w._loaded.add("*");
        w._synced = true;
      }
      return;
    }
    throw NOT_IMPLEMENTED("WorksheetCollection", `load ${path}`);
  }
  getItem(key) {
    const st = this._ctx._double.state;
    const s = st.sheetByName(key);
    if (!s) this._do(() => { throw new RichApiError("ItemNotFound", `The requested resource doesn't exist: worksheet "${key}".`); });
    return worksheetProxy(this._ctx, s || null);
  }
  getItemOrNullObject(key) {
    this._ctx._double.requireApi("getItemOrNullObject");
    const st = this._ctx._double.state;
    const w = worksheetProxy(this._ctx, null);
    w._resolve = () => { const s = st.sheetByName(key); w._sheet = s || null; w._isNull = !s; };
    return this._ctx._track(w);
  }
  getActiveWorksheet() {
    return worksheetProxy(this._ctx, this._ctx._double.state.active);
  }
  add(name) {
    const d = this._ctx._double;
    const st = d.state;
    let sheet = null;
    this._do(() => {
      let n = name;
      if (n === undefined || n === null) {
        let i = st.sheets.length + 1;
        while (st.sheetByName(`工作表${i}`)) i += 1;
        n = `工作表${i}`;
      }
      checkSheetName(st, n);
      sheet = new SheetState(n);
      st.sheets.push(sheet);
      d.log("addSheet", n);
    });
    return worksheetProxy(this._ctx, sheet);
  }
  getCount() {
    return new ClientResult(() => this._ctx._double.state.sheets.length);
  }
}

function worksheetProxy(ctx, sheet) {
  return strict(new Worksheet(ctx, sheet), "Worksheet");
}

class Worksheet extends ClientObject {
  constructor(ctx, sheet) {
    super(ctx);
    this._sheet = sheet;
    this._isNull = sheet === null;
    this.tables = strict(new TableCollection(ctx, () => this._sheet), "TableCollection");
    this.charts = strict(new ChartCollection(ctx, () => this._sheet), "ChartCollection");
    this.names = strict(new NamedItemCollection(ctx, () => this._sheet), "NamedItemCollection");
    this.shapes = strict(new EmptyCollection(ctx, "ShapeCollection"), "ShapeCollection");
    this.pivotTables = strict(new EmptyCollection(ctx, "PivotTableCollection"), "PivotTableCollection");
    this.pageLayout = strict(new PageLayout(ctx, () => this._sheet), "PageLayout");
    this.freezePanes = strict(new FreezePanes(ctx, () => this._sheet), "FreezePanes");
    this.protection = strict(new WorksheetProtection(ctx, () => this._sheet), "WorksheetProtection");
  }
  get notes() {
    this._ctx._double.requireApi("notes");
    return strict(new NoteCollection(this._ctx, () => this._live()), "NoteCollection");
  }
  _live() {
    const st = this._ctx._double.state;
    if (!this._sheet || !st.sheets.includes(this._sheet)) {
      throw new RichApiError("ItemNotFound", "The worksheet doesn't exist (it was deleted).");
    }
    return this._sheet;
  }
  get name() { this._need("name"); return this._sheet.name; }
  set name(v) {
    this._do(() => {
      const s = this._live();
      checkSheetName(this._ctx._double.state, v, s);
      s.name = v;
    });
  }
  get id() { this._need("id"); return this._sheet.id; }
  get position() { this._need("position"); return this._ctx._double.state.sheets.indexOf(this._sheet); }
  set position(p) {
    this._do(() => {
      const st = this._ctx._double.state;
      const s = this._live();
      if (p < 0 || p >= st.sheets.length) throw new RichApiError("InvalidArgument", `Bad sheet position ${p}`);
      st.sheets.splice(st.sheets.indexOf(s), 1);
      st.sheets.splice(p, 0, s);
    });
  }
  get visibility() { this._need("visibility"); return this._sheet.visibility; }
  set visibility(v) {
    this._do(() => {
      const st = this._ctx._double.state;
      const s = this._live();
      if (!["Visible", "Hidden", "VeryHidden"].includes(v)) throw new RichApiError("InvalidArgument", `Bad visibility ${v}`);
      if (v !== "Visible" && st.sheets.filter((x) => x !== s && x.visibility === "Visible").length === 0) {
        throw new RichApiError("InvalidOperation", "A workbook must keep at least one visible sheet.");
      }
      s.visibility = v;
      if (v !== "Visible" && st.active === s) st.active = st.sheets.find((x) => x.visibility === "Visible");
    });
  }
  get showGridlines() { this._need("showGridlines"); return this._sheet.showGridlines; }
  set showGridlines(v) { this._do(() => { this._live().showGridlines = Boolean(v); }); }
  get tabColor() { this._need("tabColor"); return ""; }
  getRange(address = null) {
    return this._ctx._track(makeRange(this._ctx, () => this._live(), address));
  }
  getRangeByIndexes(r, c, rc, cc) {
    this._ctx._double.requireApi("getRangeByIndexes");
    if (rc < 1 || cc < 1) {
      this._do(() => { throw new RichApiError("InvalidArgument", `A range needs at least one row and column (${rc}x${cc}).`); });
    }
    return this._ctx._track(makeRange(this._ctx, () => this._live(), addressOf(r, c, r + Math.max(rc, 1) - 1, c + Math.max(cc, 1) - 1)));
  }
  getCell(r, c) {
    return this.getRange(addressOf(r, c, r, c));
  }
  getUsedRange(valuesOnly = false) {
    const rng = makeRange(this._ctx, () => this._live(), null);
    rng._usedOf = valuesOnly;
    return this._ctx._track(rng);
  }
  getUsedRangeOrNullObject(valuesOnly = false) {
    this._ctx._double.requireApi("getUsedRangeOrNullObject");
    const rng = makeRange(this._ctx, () => this._live(), null);
    rng._usedOf = valuesOnly;
    rng._nullable = true;
    return this._ctx._track(rng);
  }
  getRanges(address) {
    this._ctx._double.requireApi("getRanges");
    if (address) throw NOT_IMPLEMENTED("Worksheet", "getRanges(address)");
    return this.getRange(null);
  }
  delete() {
    this._do(() => {
      const d = this._ctx._double;
      const st = d.state;
      const s = this._live();
      if (st.sheets.filter((x) => x !== s && x.visibility === "Visible").length === 0) {
        throw new RichApiError("InvalidOperation", "The last visible sheet cannot be deleted.");
      }
      st.sheets.splice(st.sheets.indexOf(s), 1);
      if (st.active === s) st.active = st.sheets.find((x) => x.visibility === "Visible");
      if (st.selection.sheet === s) st.selection = { sheet: st.active, address: "A1" };
      d.refsBroken(s.name);
      d.log("deleteSheet", s.name);
    });
  }
  activate() {
    this._do(() => {
      const s = this._live();
      if (s.visibility !== "Visible") throw new RichApiError("InvalidOperation", `A hidden sheet cannot be activated (${s.name}).`);
      this._ctx._double.state.active = s;
      this._ctx._double.state.selection = { sheet: s, address: "A1" };
    });
  }
}

class EmptyCollection extends CollectionBase {
  constructor(ctx, cls) {
    super(ctx);
    this._cls = cls;
  }
}

class NoteCollection extends CollectionBase {
  constructor(ctx, sheetGetter) {
    super(ctx);
    this._sg = sheetGetter;
  }
  _children() { return []; }
  add(cellAddress, content) {
    this._do(() => {
      const s = this._sg();
      const a = typeof cellAddress === "string" ? cellAddress.split("!").pop() : cellAddress._address();
      const b = parseAddress(a);
      if (b.r0 !== b.r1 || b.c0 !== b.c1) throw new RichApiError("InvalidArgument", "A note belongs to one cell.");
      if (s.notes.has(a)) throw new RichApiError("InvalidOperation", `The cell ${a} has a note already.`);
      s.notes.set(a, String(content));
    });
  }
}

class PageLayout extends ClientObject {
  constructor(ctx, sheet) {
    super(ctx);
    this._s = sheet;
  }
  getPrintAreaOrNullObject() {
    this._ctx._double.requireApi("getPrintAreaOrNullObject");
    const areas = strict(new RangeAreas(this._ctx, this._s), "RangeAreas");
    areas._resolve = () => { areas._isNull = !this._s().printArea; };
    return this._ctx._track(areas);
  }
  setPrintArea(address) {
    this._do(() => { this._s().printArea = typeof address === "string" ? address : address._address(); });
  }
}

class RangeAreas extends ClientObject {
  constructor(ctx, sheet) {
    super(ctx);
    this._s = sheet;
  }
  get areas() {
    const s = this._s();
    const list = (s.printArea || "").split(",").filter(Boolean);
    return strict({ items: list.map((a) => ({ address: `${quoteSheet(s.name)}!${a}`, isNullObject: false })) }, "RangeCollection");
  }
  _applyLoad() {}
}

class FreezePanes extends ClientObject {
  constructor(ctx, sheet) {
    super(ctx);
    this._s = sheet;
  }
  freezeAt(range) { this._do(() => { this._s().frozen = typeof range === "string" ? range : range._address(); }); }
  freezeRows(n) { this._do(() => { this._s().frozen = `rows:${n}`; }); }
  unfreeze() { this._do(() => { this._s().frozen = null; }); }
}

class WorksheetProtection extends ClientObject {
  constructor(ctx, sheet) {
    super(ctx);
    this._s = sheet;
  }
  get protected() { this._need("protected"); return this._s().protected; }
  protect() { this._do(() => { this._s().protected = true; }); }
  unprotect() { this._do(() => { this._s().protected = false; }); }
}

// -- ranges -----------------------------------------------------------------------------------
function makeRange(ctx, sheetGetter, address) {
  return strict(new Range(ctx, sheetGetter, address), "Range");
}

class Range extends ClientObject {
  constructor(ctx, sheetGetter, address) {
    super(ctx);
    this._sheetGetter = sheetGetter;
    this._addr = address;
    this.format = strict(new RangeFormat(ctx, this), "RangeFormat");
    this.dataValidation = strict(new DataValidation(ctx, this), "DataValidation");
    this.conditionalFormats = strict(new ConditionalFormatCollection(ctx, this), "ConditionalFormatCollection");
  }
  _s() { return this._sheetGetter(); }
  _resolve() {
    if (this._usedOf !== undefined) {
      const u = this._s().store.used(this._usedOf);
      if (!u) {
        if (this._nullable) { this._isNull = true; return; }
        this._box = { r0: 0, c0: 0, r1: 0, c1: 0 };
      } else {
        this._box = u;
      }
    }
  }
  _bounds() {
    if (this._usedOf !== undefined) {
      if (!this._box) this._resolve();
      return this._box;
    }
    if (this._addr === null) return { r0: 0, c0: 0, r1: MAX_ROWS - 1, c1: MAX_COLS - 1 };
    const a = this._addr.includes("!") ? this._addr.split("!").pop() : this._addr;
    return parseAddress(a);
  }
  _address() {
    const b = this._bounds();
    return addressOf(b.r0, b.c0, b.r1, b.c1);
  }
  _dims() {
    const b = this._bounds();
    return [b.r1 - b.r0 + 1, b.c1 - b.c0 + 1];
  }
  _cells(fn) {
    const b = this._bounds();
    const s = this._s();
    for (let r = b.r0; r <= b.r1; r++) for (let c = b.c0; c <= b.c1; c++) fn(r, c, s);
  }
  _matrix(get) {
    const b = this._bounds();
    const s = this._s();
    if ((b.r1 - b.r0 + 1) * (b.c1 - b.c0 + 1) > 5_000_000) throw new RichApiError("ResponsePayloadSizeLimitExceeded", "Too many cells read.");
    const out = [];
    for (let r = b.r0; r <= b.r1; r++) {
      const row = [];
      for (let c = b.c0; c <= b.c1; c++) row.push(get(s.store.get(r, c), r, c));
      out.push(row);
    }
    return out;
  }
  _checkDims(arr, what) {
    const [rc, cc] = this._dims();
    if (!Array.isArray(arr) || arr.length !== rc || arr.some((row) => !Array.isArray(row) || row.length !== cc)) {
      const got = Array.isArray(arr) ? `${arr.length}x${Array.isArray(arr[0]) ? arr[0].length : "?"}` : typeof arr;
      throw new RichApiError("InvalidArgument",
        `The number of rows or columns in the input array doesn't match the size or dimensions of the range (${what}: range ${rc}x${cc}, array ${got}).`);
    }
  }
  _writable(r, c, s) {
    if (s.protected) {
      const cell = s.store.get(r, c);
      if (!cell || cell.locked !== false) {
        throw new RichApiError("AccessDenied", `The cell ${quoteSheet(s.name)}!${addressOf(r, c, r, c)} is locked on a protected sheet.`);
      }
    }
  }
  get address() { this._need("address"); return `${quoteSheet(this._s().name)}!${this._address()}`; }
  get addressLocal() { this._need("addressLocal"); return this.address; }
  get rowCount() { this._need("rowCount"); return this._dims()[0]; }
  get columnCount() { this._need("columnCount"); return this._dims()[1]; }
  get rowIndex() { this._need("rowIndex"); return this._bounds().r0; }
  get columnIndex() { this._need("columnIndex"); return this._bounds().c0; }
  get worksheet() { return worksheetProxy(this._ctx, this._s()); }
  get values() {
    this._need("values");
    return this._matrix((cell) => (cell ? cell.value : ""));
  }
  set values(arr) {
    this._do(() => {
      this._checkDims(arr, "values");
      const b = this._bounds();
      const s = this._s();
      const d = this._ctx._double;
      arr.forEach((row, i) => row.forEach((v, j) => {
        const r = b.r0 + i;
        const c = b.c0 + j;
        this._writable(r, c, s);
        const cell = s.store.ensure(r, c);
        const wantsDate = isDateFormat(cell.numberFormat);
        const t = typedValue(v, cell.numberFormat);
        if (t.formula) checkFormula(d.state, t.formula, s);
        cell.value = t.value;
        cell.formula = t.formula;
        cell.numberFormat = t.numberFormat;
        const meantDate = wantsDate && typeof t.value === "number" && /^\d{4}-\d{2}-\d{2}/.test(v);
        if (typeof v === "string" && t.value !== v && !t.formula && v !== "" && !v.startsWith("'") && !meantDate) {
          d.conversions.push({ sheet: s.name, cell: addressOf(r, c, r, c), typed: v, became: t.value });
        }
      }));
      d.cellsWritten += arr.length * (arr[0]?.length || 0);
    });
  }
  get formulas() {
    this._need("formulas");
    return this._matrix((cell) => (cell ? (cell.formula ?? cell.value) : ""));
  }
  set formulas(arr) {
    this._do(() => {
      this._checkDims(arr, "formulas");
      const b = this._bounds();
      const s = this._s();
      const d = this._ctx._double;
      arr.forEach((row, i) => row.forEach((v, j) => {
        const r = b.r0 + i;
        const c = b.c0 + j;
        this._writable(r, c, s);
        const cell = s.store.ensure(r, c);
        if (typeof v === "string" && v.startsWith("=") && v.length > 1) {
          checkFormula(d.state, v, s);
          cell.formula = v;
          cell.value = "";
        } else {
          const t = typedValue(v, cell.numberFormat);
          cell.value = t.value;
          cell.formula = t.formula;
          cell.numberFormat = t.numberFormat;
        }
      }));
      d.cellsWritten += arr.length * (arr[0]?.length || 0);
    });
  }
  get numberFormat() {
    this._need("numberFormat");
    return this._matrix((cell) => (cell ? cell.numberFormat : "General"));
  }
  set numberFormat(arr) {
    this._do(() => {
      const [rc, cc] = this._dims();
      // one value for the whole range is accepted, as a 1x1 array for a 1x1 range
      const one = Array.isArray(arr) && arr.length === 1 && Array.isArray(arr[0]) && arr[0].length === 1;
      if (!one || rc * cc === 1) this._checkDims(arr, "numberFormat");
      this._cells((r, c, s) => {
        this._writable(r, c, s);
        s.store.ensure(r, c).numberFormat = one ? arr[0][0] : arr[r - this._bounds().r0][c - this._bounds().c0];
      });
    });
  }
  get text() {
    this._need("text");
    return this._matrix((cell) => (cell ? String(cell.value) : ""));
  }
  get hyperlink() { this._need("hyperlink"); return null; }
  get rowHidden() { this._need("rowHidden"); return false; }
  get columnHidden() { this._need("columnHidden"); return false; }
  set rowHidden(v) { this._do(() => { void v; }); }
  set columnHidden(v) { this._do(() => { void v; }); }
  getCell(r, c) {
    const b = this._bounds();
    return this._ctx._track(makeRange(this._ctx, this._sheetGetter, addressOf(b.r0 + r, b.c0 + c, b.r0 + r, b.c0 + c)));
  }
  getResizedRange(dr, dc) {
    const b = this._bounds();
    return this._ctx._track(makeRange(this._ctx, this._sheetGetter, addressOf(b.r0, b.c0, b.r1 + dr, b.c1 + dc)));
  }
  getOffsetRange(dr, dc) {
    const b = this._bounds();
    return this._ctx._track(makeRange(this._ctx, this._sheetGetter, addressOf(b.r0 + dr, b.c0 + dc, b.r1 + dr, b.c1 + dc)));
  }
  getSurroundingRegion() {
    this._ctx._double.requireApi("getSurroundingRegion");
    const rng = makeRange(this._ctx, this._sheetGetter, null);
    rng._usedOf = true;
    return this._ctx._track(rng);
  }
  getEntireColumn() {
    const b = this._bounds();
    return this._ctx._track(makeRange(this._ctx, this._sheetGetter, `${colName(b.c0)}:${colName(b.c1)}`));
  }
  getEntireRow() {
    const b = this._bounds();
    return this._ctx._track(makeRange(this._ctx, this._sheetGetter, `${b.r0 + 1}:${b.r1 + 1}`));
  }
  clear(applyTo = "All") {
    this._do(() => {
      const s = this._s();
      for (const [k, cell] of [...s.store.cells]) {
        const [r, c] = k.split(",").map(Number);
        const b = this._bounds();
        if (r < b.r0 || r > b.r1 || c < b.c0 || c > b.c1) continue;
        this._writable(r, c, s);
        if (applyTo === "All" || applyTo === "Contents") { cell.value = ""; cell.formula = null; }
        if (applyTo === "All" || applyTo === "Formats") { cell.numberFormat = "General"; cell.format = {}; }
        if (!cell.formula && cell.value === "" && cell.numberFormat === "General" && !Object.keys(cell.format).length && cell.locked !== false) s.store.cells.delete(k);
      }
      if (applyTo === "All" || applyTo === "Formats") {
        const b = this._bounds();
        s.merges = s.merges.filter((m) => m.r1 < b.r0 || m.r0 > b.r1 || m.c1 < b.c0 || m.c0 > b.c1);
      }
    });
  }
  merge(across = false) {
    this._do(() => {
      const b = this._bounds();
      const s = this._s();
      if (across) for (let r = b.r0; r <= b.r1; r++) s.merges.push({ r0: r, c0: b.c0, r1: r, c1: b.c1 });
      else s.merges.push({ ...b });
    });
  }
  unmerge() {
    this._do(() => {
      const b = this._bounds();
      const s = this._s();
      s.merges = s.merges.filter((m) => m.r1 < b.r0 || m.r0 > b.r1 || m.c1 < b.c0 || m.c0 > b.c1);
    });
  }
  select() {
    this._do(() => {
      const s = this._s();
      if (s.visibility !== "Visible") throw new RichApiError("InvalidOperation", "A range on a hidden sheet cannot be selected.");
      const st = this._ctx._double.state;
      st.active = s;
      st.selection = { sheet: s, address: this._address() };
    });
  }
  copyFrom(source, copyType = "All", skipBlanks = false, transpose = false) {
    this._ctx._double.requireApi("copyFrom");
    this._do(() => {
      if (skipBlanks || transpose) throw NOT_IMPLEMENTED("Range", "copyFrom(skipBlanks/transpose)");
      const d = this._ctx._double;
      let src = source;
      if (typeof source === "string") {
        const [sn, a] = source.includes("!") ? [source.slice(0, source.lastIndexOf("!")), source.slice(source.lastIndexOf("!") + 1)] : [null, source];
        const sheet = sn ? d.state.sheetByName(sn.replace(/^'|'$/g, "").replace(/''/g, "'")) : this._s();
        if (!sheet) throw new RichApiError("ItemNotFound", `copyFrom: no sheet in ${source}`);
        src = makeRange(this._ctx, () => sheet, a);
      }
      const sb = src._bounds();
      const db = this._bounds();
      const ss = src._s();
      const ds = this._s();
      for (let r = 0; r <= sb.r1 - sb.r0; r++) {
        for (let c = 0; c <= sb.c1 - sb.c0; c++) {
          const from = ss.store.get(sb.r0 + r, sb.c0 + c);
          this._writable(db.r0 + r, db.c0 + c, ds);
          if (!from) { const to = ds.store.get(db.r0 + r, db.c0 + c); if (to && copyType !== "Formats") { to.value = ""; to.formula = null; } continue; }
          const to = ds.store.ensure(db.r0 + r, db.c0 + c);
          if (copyType === "Values" || copyType === "All") { to.value = from.value; to.formula = copyType === "All" ? from.formula : null; }
          if (copyType === "Formulas") { to.value = from.value; to.formula = from.formula; }
          if (copyType === "Formats" || copyType === "All") { to.numberFormat = from.numberFormat; to.format = { ...from.format }; }
        }
      }
      d.cellsWritten += (sb.r1 - sb.r0 + 1) * (sb.c1 - sb.c0 + 1);
    });
  }
  delete() { throw NOT_IMPLEMENTED("Range", "delete"); }
  insert() { throw NOT_IMPLEMENTED("Range", "insert"); }
}

class RangeFormat extends ClientObject {
  constructor(ctx, range) {
    super(ctx);
    this._r = range;
    this.font = strict(new FormatPart(ctx, range, "font", ["bold", "italic", "size", "color", "name", "underline"]), "RangeFont");
    this.fill = strict(new FormatPart(ctx, range, "fill", ["color"]), "RangeFill");
    this.borders = strict(new Borders(ctx, range), "RangeBorderCollection");
    this.protection = strict(new FormatProtection(ctx, range), "FormatProtection");
  }
  _set(prop, v) {
    this._do(() => { this._r._cells((r, c, s) => { this._r._writable(r, c, s); s.store.ensure(r, c).format[prop] = v; }); });
  }
  _get(prop) {
    this._need(prop);
    const b = this._r._bounds();
    const cell = this._r._s().store.get(b.r0, b.c0);
    return cell?.format[prop] ?? null;
  }
  get horizontalAlignment() { return this._get("horizontalAlignment") ?? "General"; }
  set horizontalAlignment(v) { this._set("horizontalAlignment", v); }
  get verticalAlignment() { return this._get("verticalAlignment") ?? "Bottom"; }
  set verticalAlignment(v) { this._set("verticalAlignment", v); }
  get wrapText() { return this._get("wrapText") ?? false; }
  set wrapText(v) { this._set("wrapText", Boolean(v)); }
  get indentLevel() { return this._get("indentLevel") ?? 0; }
  set indentLevel(v) { this._set("indentLevel", v); }
  get columnWidth() { this._need("columnWidth"); return this._r._s().columnWidths.get(this._r._bounds().c0) ?? 48; }
  set columnWidth(v) {
    this._do(() => { const b = this._r._bounds(); for (let c = b.c0; c <= Math.min(b.c1, b.c0 + 1000); c++) this._r._s().columnWidths.set(c, v); });
  }
  get rowHeight() { this._need("rowHeight"); return this._r._s().rowHeights.get(this._r._bounds().r0) ?? 15; }
  set rowHeight(v) {
    this._do(() => { const b = this._r._bounds(); for (let r = b.r0; r <= Math.min(b.r1, b.r0 + 100000); r++) this._r._s().rowHeights.set(r, v); });
  }
  autofitRows() { this._do(() => {}); }
  autofitColumns() { this._do(() => {}); }
}

class FormatPart extends ClientObject {
  constructor(ctx, range, kind, props) {
    super(ctx);
    for (const p of props) {
      Object.defineProperty(this, p, {
        get: () => { this._need(p); const b = range._bounds(); const cell = range._s().store.get(b.r0, b.c0); return cell?.format[`${kind}.${p}`] ?? null; },
        set: (v) => { this._do(() => { range._cells((r, c, s) => { range._writable(r, c, s); s.store.ensure(r, c).format[`${kind}.${p}`] = v; }); }); },
        enumerable: true,
      });
    }
    this.clear = () => { this._do(() => { range._cells((r, c, s) => { const cell = s.store.get(r, c); if (cell) for (const k of Object.keys(cell.format)) if (k.startsWith(kind)) delete cell.format[k]; }); }); };
  }
}

class FormatProtection extends ClientObject {
  constructor(ctx, range) {
    super(ctx);
    this._r = range;
  }
  get locked() { this._need("locked"); const b = this._r._bounds(); return this._r._s().store.get(b.r0, b.c0)?.locked !== false; }
  set locked(v) { this._do(() => { this._r._cells((r, c, s) => { if (s.protected) throw new RichApiError("AccessDenied", "Protection of a protected sheet cannot change."); s.store.ensure(r, c).locked = Boolean(v); }); }); }
}

class Borders extends ClientObject {
  constructor(ctx, range) {
    super(ctx);
    this._r = range;
  }
  getItem(side) {
    const range = this._r;
    return strict(new FormatPart(this._ctx, range, `border.${side}`, ["style", "color", "weight"]), "RangeBorder");
  }
  get items() { this._need("items"); return []; }
}

class DataValidation extends ClientObject {
  constructor(ctx, range) {
    super(ctx);
    this._r = range;
  }
  set rule(rule) {
    this._do(() => {
      const s = this._r._s();
      const source = rule?.list?.source;
      if (typeof source === "string" && source.startsWith("=")) checkFormula(this._ctx._double.state, source, s);
      s.validations.push({ address: this._r._address(), rule });
    });
  }
  get rule() { this._need("rule"); return null; }
  clear() { this._do(() => { const s = this._r._s(); s.validations = s.validations.filter((v) => v.address !== this._r._address()); }); }
  set ignoreBlanks(v) { this._do(() => { void v; }); }
  set prompt(v) { this._do(() => { void v; }); }
  set errorAlert(v) { this._do(() => { void v; }); }
}

class ConditionalFormatCollection extends ClientObject {
  constructor(ctx, range) {
    super(ctx);
    this._r = range;
  }
  add(type) {
    const TYPES = ["CellValue", "Custom", "DataBar", "ColorScale", "IconSet", "ContainsText", "TopBottom", "PresetCriteria"];
    const rule = { type, address: null, detail: {} };
    this._do(() => {
      if (!TYPES.includes(type)) throw new RichApiError("InvalidArgument", `Unknown conditional format type ${type}`);
      const s = this._r._s();
      rule.address = this._r._address();
      s.conditionalFormats = s.conditionalFormats || [];
      s.conditionalFormats.unshift(rule);       // add() puts the new rule first
    });
    return strict(new ConditionalFormat(this._ctx, rule), "ConditionalFormat");
  }
  clearAll() {
    this._do(() => {
      const s = this._r._s();
      const b = this._r._bounds();
      s.conditionalFormats = (s.conditionalFormats || []).filter((cf) => {
        const a = parseAddress(cf.address);
        return a.r1 < b.r0 || a.r0 > b.r1 || a.c1 < b.c0 || a.c0 > b.c1;
      });
    });
  }
  get items() { this._need("items"); return []; }
}

function detailProxy(ctx, holder, cls, fields, sub = {}) {
  // a plain settable record (rule, format…), each assignment a request of the batch
  const target = { ...sub };
  for (const f of fields) {
    Object.defineProperty(target, f, {
      get: () => holder[f],
      set: (v) => { ctx._do(() => { holder[f] = v; }); },
      enumerable: true,
    });
  }
  return strict(target, cls);
}

class ConditionalFormat extends ClientObject {
  constructor(ctx, rule) {
    super(ctx);
    this._rule = rule;
    const d = rule.detail;
    const fmt = (key) => {
      d[key] = d[key] || { fill: {}, font: {} };
      return detailProxy(ctx, d[key], "ConditionalRangeFormat", [], {
        fill: detailProxy(ctx, d[key].fill, "ConditionalRangeFill", ["color"]),
        font: detailProxy(ctx, d[key].font, "ConditionalRangeFont", ["color", "bold", "italic"]),
      });
    };
    d.cellValue = d.cellValue || {};
    d.custom = d.custom || { rule: {} };
    d.dataBar = d.dataBar || { positiveFormat: {} };
    this.cellValue = detailProxy(ctx, d.cellValue, "CellValueConditionalFormat", ["rule"], { format: fmt("cellValueFormat") });
    this.custom = detailProxy(ctx, d.custom, "CustomConditionalFormat", [], {
      rule: detailProxy(ctx, d.custom.rule, "ConditionalFormatRule", ["formula"]), format: fmt("customFormat") });
    this.dataBar = detailProxy(ctx, d.dataBar, "DataBarConditionalFormat",
      ["lowerBoundRule", "upperBoundRule", "showDataBarOnly"], {
        positiveFormat: detailProxy(ctx, d.dataBar.positiveFormat, "ConditionalDataBarPositiveFormat", ["fillColor", "gradientFill"]) });
  }
  set priority(v) { this._do(() => { this._rule.priority = v; }); }
  set stopIfTrue(v) { this._do(() => { this._rule.stopIfTrue = v; }); }
}

// -- names and tables -------------------------------------------------------------------------
class NamedItemCollection extends CollectionBase {
  constructor(ctx, sheetGetter) {
    super(ctx);
    this._sg = sheetGetter;
  }
  _map() {
    return this._sg ? this._sg().names : this._ctx._double.state.names;
  }
  _children() {
    return [...this._map().entries()].map(([k, n]) => strict(new NamedItem(this._ctx, this._map(), k, n), "NamedItem"));
  }
  add(name, reference, comment = "") {
    const item = { name, formula: null, comment };
    this._do(() => {
      if (!/^[A-Za-z_\\\u4e00-\u9fff][\w.\u4e00-\u9fff]*$/.test(name)) throw new RichApiError("InvalidArgument", `Bad name ${name}`);
      if (this._map().has(name.toLowerCase())) throw new RichApiError("ItemAlreadyExists", `The name ${name} already exists.`);
      let formula = typeof reference === "string" ? reference : `=${reference.address}`;
      if (!formula.startsWith("=")) formula = `=${formula}`;
      checkFormula(this._ctx._double.state, formula, this._sg ? this._sg() : null);
      item.formula = formula;
      this._map().set(name.toLowerCase(), item);
      this._ctx._double.log("namesAdd", name);
    });
    return strict(new NamedItem(this._ctx, this._map(), name.toLowerCase(), item), "NamedItem");
  }
  getItem(name) {
    const n = this._map().get(String(name).toLowerCase());
    if (!n) this._do(() => { throw new RichApiError("ItemNotFound", `The name ${name} does not exist.`); });
    return strict(new NamedItem(this._ctx, this._map(), String(name).toLowerCase(), n || null), "NamedItem");
  }
  getItemOrNullObject(name) {
    const key = String(name).toLowerCase();
    const it = strict(new NamedItem(this._ctx, this._map(), key, null), "NamedItem");
    it._resolve = () => { const n = this._map().get(key); it._n = n || null; it._isNull = !n; };
    return this._ctx._track(it);
  }
}

class NamedItem extends ClientObject {
  constructor(ctx, map, key, n) {
    super(ctx);
    this._map = map;
    this._key = key;
    this._n = n;
    this._isNull = n === null;
  }
  get name() { this._need("name"); return this._n.name; }
  get type() { this._need("type"); return /^=\s*'?[^!]+'?!\$?[A-Z]+\$?\d+/.test(this._n.formula) ? "Range" : "String"; }
  get formula() { this._need("formula"); return this._n.formula; }
  set formula(v) { this._do(() => { checkFormula(this._ctx._double.state, v, null); this._n.formula = v; }); }
  get visible() { this._need("visible"); return true; }
  get value() { this._need("value"); return this._n.formula; }
  delete() { this._do(() => { if (!this._map.delete(this._key)) throw new RichApiError("ItemNotFound", `No name ${this._key}`); }); }
  getRangeOrNullObject() {
    const st = this._ctx._double.state;
    const m = /^=\s*(?:'((?:[^']|'')+)'|([^!]+))!(.+)$/.exec(this._n?.formula || "");
    const sheet = m ? st.sheetByName((m[1] ?? m[2]).replace(/''/g, "'")) : null;
    const rng = makeRange(this._ctx, () => sheet, m ? m[3] : "A1");
    rng._resolve = () => { rng._isNull = !sheet; };
    return this._ctx._track(rng);
  }
}

class TableCollection extends CollectionBase {
  constructor(ctx, sheetGetter) {
    super(ctx);
    this._sg = sheetGetter;
  }
  _children() {
    return this._sg().tables.map((t) => strict(new Table(this._ctx, this._sg, t), "Table"));
  }
  add(address, hasHeaders) {
    let table = null;
    this._do(() => {
      const st = this._ctx._double.state;
      const a = typeof address === "string" ? address : address._address();
      const sheetPart = a.includes("!") ? a.slice(0, a.lastIndexOf("!")).replace(/^'|'$/g, "") : null;
      const s = sheetPart ? st.sheetByName(sheetPart) : this._sg();
      const b = parseAddress(a.split("!").pop());
      let i = 1;
      while (st.findTable(`表${i}`)) i += 1;
      const columns = [];
      for (let c = b.c0; c <= b.c1; c++) columns.push(hasHeaders ? String(s.store.get(b.r0, c)?.value ?? `列${c - b.c0 + 1}`) : `列${c - b.c0 + 1}`);
      table = { name: `表${i}`, ...b, columns, showHeaders: true, showTotals: false, style: "TableStyleMedium2" };
      s.tables.push(table);
    });
    return strict(new Table(this._ctx, this._sg, table), "Table");
  }
  getItem(name) {
    const hit = this._ctx._double.state.findTable(String(name));
    if (!hit) this._do(() => { throw new RichApiError("ItemNotFound", `No table ${name}`); });
    return strict(new Table(this._ctx, () => hit?.[0], hit?.[1] || null), "Table");
  }
}

class Table extends ClientObject {
  constructor(ctx, sheetGetter, t) {
    super(ctx);
    this._sg = sheetGetter;
    this._t = t;
    this.columns = strict({
      _t: t, _loaded: new Set(), load() { return this; }, _applyLoad() {},
      get items() { return t.columns.map((n) => ({ name: n })); },
    }, "TableColumnCollection");
  }
  get name() { this._need("name"); return this._t.name; }
  set name(v) {
    this._do(() => {
      if (this._ctx._double.state.findTable(v)) throw new RichApiError("ItemAlreadyExists", `A table named ${v} exists.`);
      this._t.name = v;
    });
  }
  get showHeaders() { this._need("showHeaders"); return this._t.showHeaders; }
  get showTotals() { this._need("showTotals"); return this._t.showTotals; }
  get style() { this._need("style"); return this._t.style; }
  set style(v) { this._do(() => { this._t.style = v; }); }
  get showFilterButton() { this._need("showFilterButton"); return true; }
  get highlightFirstColumn() { this._need("highlightFirstColumn"); return false; }
  get highlightLastColumn() { this._need("highlightLastColumn"); return false; }
  get showBandedRows() { this._need("showBandedRows"); return true; }
  get showBandedColumns() { this._need("showBandedColumns"); return false; }
  _box(r0, r1) { return makeRange(this._ctx, this._sg, addressOf(r0, this._t.c0, r1, this._t.c1)); }
  getRange() { return this._ctx._track(this._box(this._t.r0, this._t.r1)); }
  getDataBodyRange() { return this._ctx._track(this._box(this._t.r0 + 1, Math.max(this._t.r1, this._t.r0 + 1))); }
  getHeaderRowRange() { return this._ctx._track(this._box(this._t.r0, this._t.r0)); }
  getTotalRowRange() { throw NOT_IMPLEMENTED("Table", "getTotalRowRange"); }
}

// -- charts -----------------------------------------------------------------------------------
class ChartCollection extends CollectionBase {
  constructor(ctx, sheetGetter) {
    super(ctx);
    this._sg = sheetGetter;
  }
  _children() {
    return this._sg().charts.map((c) => strict(new Chart(this._ctx, this._sg, c), "Chart"));
  }
  _applyLoad(path) {
    if (path === "count") { this._loaded.add("count"); return; }
    super._applyLoad(path);
  }
  get count() { this._need("count"); return this._sg().charts.length; }
  getItemAt(i) {
    const c = this._sg().charts[i];
    if (!c) this._do(() => { throw new RichApiError("ItemNotFound", `The sheet has no chart ${i}.`); });
    return strict(new Chart(this._ctx, this._sg, c || null), "Chart");
  }
  add(type, sourceData, seriesBy = "Auto") {
    let chart = null;
    this._do(() => {
      const s = this._sg();
      const src = typeof sourceData === "string" ? sourceData : `${quoteSheet(sourceData._s().name)}!${sourceData._address()}`;
      chart = { name: `圖表 ${s.charts.length + 1}`, chartType: type, left: 0, top: 0, width: 360, height: 216,
        title: null, source: src, seriesBy, series: seriesFromRange(sourceData, seriesBy) };
      s.charts.push(chart);
    });
    return strict(new Chart(this._ctx, this._sg, chart), "Chart");
  }
}

function seriesFromRange(range, seriesBy) {
  // what Excel makes of a chart's source range: one series per row (or column), the first
  // column (row) of text as series names, the first row (column) of text as categories
  if (typeof range === "string") return [{ name: "系列1", values: range, categories: null }];
  const b = range._bounds();
  const s = range._s();
  const text = (r, c) => typeof s.store.get(r, c)?.value === "string";
  const rows = b.r1 - b.r0 + 1;
  const cols = b.c1 - b.c0 + 1;
  const byRows = seriesBy === "Rows" || (seriesBy !== "Columns" && cols > rows);
  const out = [];
  if (byRows) {
    const named = text(b.r0 + (rows > 1 ? 1 : 0), b.c0);
    const header = rows > 1 && [...Array(cols).keys()].slice(named ? 1 : 0).some((j) => text(b.r0, b.c0 + j));
    for (let r = b.r0 + (header ? 1 : 0); r <= b.r1; r++) {
      out.push({ name: named ? s.store.get(r, b.c0).value : `系列${out.length + 1}`,
        values: `${quoteSheet(s.name)}!${addressOf(r, b.c0 + (named ? 1 : 0), r, b.c1)}`, categories: null });
    }
  } else {
    const named = text(b.r0, b.c0 + (cols > 1 ? 1 : 0));
    const header = cols > 1 && [...Array(rows).keys()].slice(named ? 1 : 0).some((i) => text(b.r0 + i, b.c0));
    for (let c = b.c0 + (header ? 1 : 0); c <= b.c1; c++) {
      out.push({ name: named ? s.store.get(b.r0, c).value : `系列${out.length + 1}`,
        values: `${quoteSheet(s.name)}!${addressOf(b.r0 + (named ? 1 : 0), c, b.r1, c)}`, categories: null });
    }
  }
  return out;
}

function recordObject(ctx, holder, cls, props, extra = {}) {
  // an Office.js object that is a set of properties: readable after load() and sync(),
  // each assignment a request of the batch
  const obj = new ClientObject(ctx);
  for (const p of props) {
    Object.defineProperty(obj, p, {
      get: () => { obj._need(p); return holder[p] ?? null; },
      set: (v) => { ctx._do(() => { holder[p] = v; }); },
      enumerable: true,
    });
  }
  Object.assign(obj, extra);
  return strict(obj, cls);
}

function axisObject(ctx, c, which) {
  c.axes = c.axes || {};
  const a = c.axes[which] = c.axes[which] || { visible: true, title: {} };
  return recordObject(ctx, a, "ChartAxis",
    ["visible", "minimum", "maximum", "majorUnit", "numberFormat", "reversePlotOrder", "position"],
    { title: recordObject(ctx, a.title, "ChartAxisTitle", ["visible", "text"]) });
}

class Chart extends ClientObject {
  constructor(ctx, sheetGetter, c) {
    super(ctx);
    this._sg = sheetGetter;
    c = c || {};          // a chart whose add() failed: the error comes at the sync
    this._c = c;
    c.series = c.series || [];
    c.titleRec = c.titleRec || { visible: true };
    c.legendRec = c.legendRec || { visible: true };
    this.title = recordObject(ctx, c.titleRec, "ChartTitle", ["visible", "text"]);
    this.legend = recordObject(ctx, c.legendRec, "ChartLegend", ["visible", "position"]);
    this.axes = strict({
      valueAxis: axisObject(ctx, c, "Value"), categoryAxis: axisObject(ctx, c, "Category"),
      getItem: (type, group = "Primary") => {
        if (group !== "Primary") throw new RichApiError("ItemNotFound", "No secondary axis.");
        return axisObject(ctx, c, type);
      },
    }, "ChartAxes");
    this.series = strict(new ChartSeriesCollection(ctx, c), "ChartSeriesCollection");
  }
  _prop(name, v) { if (v === undefined) { this._need(name); return this._c[name]; } this._do(() => { this._c[name] = v; }); return v; }
  get name() { return this._prop("name"); }
  set name(v) { this._prop("name", v); }
  get chartType() { return this._prop("chartType"); }
  set chartType(v) { this._prop("chartType", v); }
  get left() { return this._prop("left"); }
  set left(v) { this._prop("left", v); }
  get top() { return this._prop("top"); }
  set top(v) { this._prop("top", v); }
  get width() { return this._prop("width"); }
  set width(v) { this._prop("width", v); }
  get height() { return this._prop("height"); }
  set height(v) { this._prop("height", v); }
  get style() { return this._prop("style"); }
  set style(v) { this._prop("style", v); }
  setPosition(start, end) {
    this._do(() => {
      const a = typeof start === "string" ? start.split("!").pop() : start._address();
      parseAddress(a);
      this._c.anchor = a;
      if (end) this._c.anchorEnd = typeof end === "string" ? end : end._address();
    });
  }
  setData(range, seriesBy) {
    this._do(() => {
      this._c.source = typeof range === "string" ? range : `${quoteSheet(range._s().name)}!${range._address()}`;
      this._c.seriesBy = seriesBy;
    });
  }
  delete() { this._do(() => { const s = this._sg(); s.charts.splice(s.charts.indexOf(this._c), 1); }); }
}

class ChartSeriesCollection extends CollectionBase {
  constructor(ctx, c) {
    super(ctx);
    this._c = c;
  }
  _children() { return this._c.series.map((x) => strict(new ChartSeries(this._ctx, this._c, x), "ChartSeries")); }
  _applyLoad(path) {
    if (path === "count") { this._loaded.add("count"); return; }
    super._applyLoad(path);
  }
  get count() { this._need("count"); return this._c.series.length; }
  getItemAt(i) {
    if (!this._c.series[i]) this._do(() => { throw new RichApiError("ItemNotFound", `The chart has no series ${i}.`); });
    return strict(new ChartSeries(this._ctx, this._c, this._c.series[i] || {}), "ChartSeries");
  }
  add(name) {
    const x = { name, values: null, categories: null };
    this._do(() => { this._c.series.push(x); });
    return strict(new ChartSeries(this._ctx, this._c, x), "ChartSeries");
  }
}

class ChartSeries extends ClientObject {
  constructor(ctx, c, x) {
    super(ctx);
    this._c = c;
    this._x = x;
    for (const p of ["name", "chartType", "axisGroup", "markerStyle", "markerSize", "markerForegroundColor", "markerBackgroundColor"]) {
      Object.defineProperty(this, p, {
        get: () => { this._need(p); return x[p] ?? (p === "axisGroup" ? "Primary" : null); },
        set: (v) => { this._do(() => { x[p] = v; }); },
      });
    }
    x.line = x.line || {};
    this.format = strict({
      line: recordObject(ctx, x.line, "ChartLineFormat", ["color", "weight", "lineStyle"]),
      fill: strict({ setSolidColor: (v) => { this._do(() => { x.fill = v; }); }, clear: () => {} }, "ChartFill"),
    }, "ChartSeriesFormat");
  }
  _ref(range) {
    const b = range._bounds();
    if (b.r0 !== b.r1 && b.c0 !== b.c1) throw new RichApiError("InvalidArgument", "A series' values must be one row or one column.");
    return `${quoteSheet(range._s().name)}!${range._address()}`;
  }
  setValues(range) { this._do(() => { this._x.values = this._ref(range); }); }
  setXAxisValues(range) { this._do(() => { this._x.categories = this._ref(range); }); }
  delete() {
    this._do(() => {
      const i = this._c.series.indexOf(this._x);
      if (i < 0) throw new RichApiError("ItemNotFound", "The series is gone.");
      this._c.series.splice(i, 1);
    });
  }
}

// -- the double ---------------------------------------------------------------------------------
export class ExcelDouble {
  constructor({ apiVersion = "1.17", platform = "PC", workbook = null } = {}) {
    this.apiVersion = apiVersion;
    this.platform = platform;
    this.state = workbook || new WorkbookState();
    this.syncs = 0;
    this.runs = 0;
    this.cellsWritten = 0;
    this.calls = [];
    this.events = [];
    this.conversions = [];     // strings Excel typed as something else
    this.brokenRefs = [];
    this.createdWorkbooks = [];
  }
  log(kind, detail) {
    this.events.push([kind, detail]);
  }
  supports(version) {
    return versionAtLeast(this.apiVersion, version);
  }
  requireApi(member) {
    const need = API_SETS[member];
    if (need && !this.supports(need)) {
      throw new RichApiError("ApiNotFound", `${member} needs ExcelApi ${need}; this host has ${this.apiVersion}.`);
    }
  }
  refsBroken(sheetName) {
    // formulas elsewhere that referred to a deleted sheet now show #REF!
    for (const s of this.state.sheets) {
      for (const [k, cell] of s.store.cells) {
        if (cell.formula && formulaReferences(cell.formula.slice(1)).sheets.has(sheetName)) {
          this.brokenRefs.push({ sheet: s.name, cell: k, formula: cell.formula, deleted: sheetName });
          cell.formula = cell.formula.replace(new RegExp(`'?${sheetName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}'?!`, "g"), "#REF!");
        }
      }
    }
  }
  insertFromBase64(base64, options) {
    const wb = XLSX.read(base64, { type: "base64", cellFormula: true, cellNF: true, cellDates: false, bookFiles: true, sheetStubs: true });
    const names = options.sheetNamesToInsert && options.sheetNamesToInsert.length ? options.sheetNamesToInsert : wb.SheetNames;
    const files = wb.files || {};
    const fileText = (p) => { const f = files[p] || files[`/${p}`]; return f ? (typeof f.content === "string" ? f.content : Buffer.from(f.content).toString("utf8")) : ""; };
    const sheetPaths = sheetFileMap(fileText);
    const styles = lockedStyles(fileText("xl/styles.xml"));
    if (this.platform === "OfficeOnline" && !options.preload) {
      for (const n of names) {
        const rels = fileText(relsOf(sheetPaths[n] || ""));
        if (/\/(drawing|pivotTable|comments|slicer)/.test(rels) && /chart|pivotTable|comments|slicer/.test(relsTargets(rels, fileText, sheetPaths[n]))) {
          throw new RichApiError("UnsupportedFeature", `Excel on the web cannot insert the sheet "${n}": it has a chart, pivot table, comment or slicer.`);
        }
      }
    }
    const st = this.state;
    for (const n of names) {
      if (st.sheetByName(n)) throw new RichApiError("ItemAlreadyExists", `Inserting "${n}": a sheet of that name exists (the double refuses; Excel would rename it).`);
    }
    const created = [];
    for (const n of names) {
      const ws = wb.Sheets[n];
      if (!ws) throw new RichApiError("ItemNotFound", `The source workbook has no sheet "${n}".`);
      const s = new SheetState(n);
      const meta = (wb.Workbook?.Sheets || []).find((x) => x.name === n);
      s.visibility = meta?.Hidden === 1 ? "Hidden" : meta?.Hidden === 2 ? "VeryHidden" : "Visible";
      const xml = fileText(sheetPaths[n] || "");
      const styleOf = cellStyleIndexes(xml);
      for (const [addr, cell] of Object.entries(ws)) {
        if (addr.startsWith("!")) continue;
        const { c, r } = XLSX.utils.decode_cell(addr);
        const dst = s.store.ensure(r, c);
        dst.value = cell.t === "z" ? "" : cell.t === "e" ? (cell.w || "#N/A") : (cell.v ?? "");
        dst.formula = cell.f ? `=${cell.f}` : null;
        dst.numberFormat = cell.z || "General";
        const xf = styleOf.get(addr);
        dst.locked = xf === undefined ? true : styles[xf] !== false;
      }
      for (const m of ws["!merges"] || []) s.merges.push({ r0: m.s.r, c0: m.s.c, r1: m.e.r, c1: m.e.c });
      s.protected = /<sheetProtection\b[^>]*\bsheet="(1|true)"/.test(xml);
      s.tables = tablesOf(fileText, sheetPaths[n] || "");
      s.charts = chartsOf(fileText, sheetPaths[n] || "");
      s.notes = notesOf(fileText, sheetPaths[n] || "");
      created.push(s);
    }
    // where they go
    let at = st.sheets.length;
    const pos = options.positionType || "End";
    if (pos === "Beginning") at = 0;
    else if (pos === "Before" || pos === "After") {
      const rel = options.relativeTo;
      const relSheet = typeof rel === "string" ? st.sheetByName(rel) : rel?._sheet;
      if (!relSheet) throw new RichApiError("ItemNotFound", `insertWorksheetsFromBase64: no sheet ${rel}`);
      at = st.sheets.indexOf(relSheet) + (pos === "After" ? 1 : 0);
    }
    st.sheets.splice(at, 0, ...created);
    for (const s of created) {
      for (const t of s.tables) {
        if (st.sheets.some((o) => o !== s && o.tables.some((x) => x.name.toLowerCase() === t.name.toLowerCase()))) {
          t.name = `${t.name}_${created.indexOf(s) + 2}`;     // Excel renames a table whose name is taken
        }
      }
    }
    // workbook names of the source are not carried over (see office-js issue 3583): the add-in
    // must define the names its sheets need itself
    this.log("insertWorksheetsFromBase64", names.join(","));
    return names;
  }
  createWorkbook(base64) {
    this.requireApi("createWorkbook");
    this.createdWorkbooks.push(base64 ? base64.length : 0);
  }
  install(target = globalThis) {
    const double = this;
    target.Excel = {
      run: async (batch) => {
        double.runs += 1;
        const ctx = new RequestContext(double);
        const result = await batch(ctx);
        await ctx.sync();
        return result;
      },
      RequestContext: function RequestContext_() { return new RequestContext(double); },
      createWorkbook: async (base64) => double.createWorkbook(base64),
      ClearApplyTo: { all: "All", formats: "Formats", contents: "Contents", hyperlinks: "Hyperlinks", removeHyperlinks: "RemoveHyperlinks" },
      WorksheetPositionType: { none: "None", before: "Before", after: "After", beginning: "Beginning", end: "End" },
      RangeCopyType: { all: "All", formulas: "Formulas", values: "Values", formats: "Formats" },
      SheetVisibility: { visible: "Visible", hidden: "Hidden", veryHidden: "VeryHidden" },
      ShapeType: { image: "Image" },
      DeleteShiftDirection: { up: "Up", left: "Left" },
      InsertShiftDirection: { down: "Down", right: "Right" },
      ChartSeriesBy: { auto: "Auto", columns: "Columns", rows: "Rows" },
    };
  }
  exportWorkbook() {
    const st = this.state;
    return {
      name: st.name,
      active: st.active?.name,
      names: [...st.names.values()].map((n) => ({ name: n.name, formula: n.formula })),
      sheets: st.sheets.map((s) => ({
        name: s.name,
        visibility: s.visibility,
        protected: s.protected,
        tables: s.tables.map((t) => ({ name: t.name, ref: addressOf(t.r0, t.c0, t.r1, t.c1), columns: t.columns })),
        charts: s.charts.map((c) => ({ name: c.name, type: c.chartType, title: c.titleRec?.text ?? c.title, source: c.source,
          series: (c.series || []).length, seriesValues: (c.series || []).map((x) => x.values) })),
        merges: s.merges.map((m) => addressOf(m.r0, m.c0, m.r1, m.c1)),
        validations: s.validations.length,
        notes: [...s.notes.entries()],
        cells: [...s.store.cells.entries()]
          .filter(([, c]) => c.formula || (c.value !== "" && c.value !== null))
          .map(([k, c]) => { const [r, col] = k.split(",").map(Number); return [r, col, c.value, c.formula, c.numberFormat]; }),
      })),
    };
  }
}

// -- reading an .xlsx's parts (for insertWorksheetsFromBase64) --------------------------------------
function sheetFileMap(fileText) {
  const wbXml = fileText("xl/workbook.xml");
  const rels = fileText("xl/_rels/workbook.xml.rels");
  const target = {};
  for (const m of rels.matchAll(/<Relationship\b[^>]*\bId="([^"]+)"[^>]*\bTarget="([^"]+)"/g)) target[m[1]] = m[2];
  for (const m of rels.matchAll(/<Relationship\b[^>]*\bTarget="([^"]+)"[^>]*\bId="([^"]+)"/g)) target[m[2]] = m[1];
  const out = {};
  for (const m of wbXml.matchAll(/<sheet\b[^>]*?\bname="([^"]+)"[^>]*?\br:id="([^"]+)"/g)) {
    const t = target[m[2]] || "";
    out[decodeXml(m[1])] = t.startsWith("/") ? t.slice(1) : `xl/${t.replace(/^\.\//, "")}`;
  }
  return out;
}

function decodeXml(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

function relsOf(path) {
  const i = path.lastIndexOf("/");
  return `${path.slice(0, i)}/_rels/${path.slice(i + 1)}.rels`;
}

function resolvePath(base, target) {
  if (target.startsWith("/")) return target.slice(1);
  const parts = base.split("/").slice(0, -1);
  for (const seg of target.split("/")) {
    if (seg === "..") parts.pop(); else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

function relsTargets(rels, fileText, sheetPath) {
  // the part types a sheet links to, one level below its drawing
  let out = rels;
  for (const m of rels.matchAll(/Target="([^"]*drawings\/[^"]+)"/g)) {
    const drawing = resolvePath(sheetPath, m[1]);
    out += fileText(relsOf(drawing));
  }
  return out;
}

function tablesOf(fileText, sheetPath) {
  const rels = fileText(relsOf(sheetPath));
  const tables = [];
  for (const m of rels.matchAll(/Target="([^"]*tables\/[^"]+)"/g)) {
    const xml = fileText(resolvePath(sheetPath, m[1]));
    const name = /<table\b[^>]*\bdisplayName="([^"]+)"/.exec(xml)?.[1] || /<table\b[^>]*\bname="([^"]+)"/.exec(xml)?.[1];
    const ref = /<table\b[^>]*\bref="([^"]+)"/.exec(xml)?.[1];
    if (!name || !ref) continue;
    const cols = [...xml.matchAll(/<tableColumn\b[^>]*\bname="([^"]*)"/g)].map((c) => decodeXml(c[1]));
    tables.push({ name: decodeXml(name), ...parseAddress(ref), columns: cols, showHeaders: true, showTotals: false, style: "TableStyleMedium2" });
  }
  return tables;
}

function chartsOf(fileText, sheetPath) {
  const rels = fileText(relsOf(sheetPath));
  const charts = [];
  for (const m of rels.matchAll(/Target="([^"]*drawings\/[^"]+\.xml)"/g)) {
    const drawing = resolvePath(sheetPath, m[1]);
    for (const c of fileText(relsOf(drawing)).matchAll(/Target="([^"]*charts\/[^"]+)"/g)) {
      const xml = fileText(resolvePath(drawing, c[1]));
      const title = [...xml.matchAll(/<a:t>([^<]*)<\/a:t>/g)].map((t) => decodeXml(t[1])).join("");
      const refs = [...xml.matchAll(/<c:f>([^<]*)<\/c:f>/g)].map((f) => decodeXml(f[1]));
      const type = /<c:(bar|line|pie|area|scatter|radar|doughnut)Chart>/.exec(xml)?.[1] || "unknown";
      const series = [...xml.matchAll(/<c:ser>/g)].map((_, i) => ({ name: `系列${i + 1}`, values: refs[i] || null }));
      charts.push({ name: `圖表 ${charts.length + 1}`, chartType: type, left: 0, top: 0, width: 480, height: 288, title, source: refs.join(","), refs, series });
    }
  }
  return charts;
}

function notesOf(fileText, sheetPath) {
  const notes = new Map();
  for (const m of fileText(relsOf(sheetPath)).matchAll(/Target="([^"]*comments[^"]*\.xml)"/g)) {
    const xml = fileText(resolvePath(sheetPath, m[1]));
    for (const c of xml.matchAll(/<comment\b[^>]*\bref="([^"]+)"[^>]*>([\s\S]*?)<\/comment>/g)) {
      notes.set(c[1], [...c[2].matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((t) => decodeXml(t[1])).join(""));
    }
  }
  return notes;
}

function lockedStyles(stylesXml) {
  // cellXfs index -> false when the style unlocks its cells
  const xfs = /<cellXfs\b[^>]*>([\s\S]*?)<\/cellXfs>/.exec(stylesXml)?.[1] || "";
  const out = [];
  for (const m of xfs.matchAll(/<xf\b[^>]*?(?:\/>|>([\s\S]*?)<\/xf>)/g)) {
    out.push(/<protection\b[^>]*\blocked="(0|false)"/.test(m[1] || "") ? false : true);
  }
  return out;
}

function cellStyleIndexes(sheetXml) {
  const out = new Map();
  for (const m of sheetXml.matchAll(/<c\b([^>]*)>/g)) {
    const r = /\br="([A-Z]+\d+)"/.exec(m[1]);
    const s = /\bs="(\d+)"/.exec(m[1]);
    if (r && s) out.set(r[1], Number(s[1]));
  }
  return out;
}

export function officeDouble(double, { shownDialogs, associations, taskpane }) {
  // The parts of the Office namespace the add-in touches.
  return {
    // Office.onReady(callback) and await Office.onReady(): both forms the scripts use
    onReady(callback) {
      const info = { host: "Excel", platform: double.platform };
      if (typeof callback === "function") callback(info);
      return Promise.resolve(info);
    },
    context: {
      platform: double.platform,
      diagnostics: { platform: double.platform, version: "16.0.18000.20000" },
      requirements: {
        isSetSupported(name, version) {
          if (name === "ExcelApi" || name === "ExcelAPI") return double.supports(version || "1.1");
          if (name === "SharedRuntime") return versionAtLeast("1.1", version || "1.1");
          if (name === "CustomFunctionsRuntime") return versionAtLeast("1.4", version || "1.1");
          if (name === "DialogApi" || name === "DialogAPI") return versionAtLeast("1.2", version || "1.1");
          if (name === "RibbonApi" || name === "RibbonAPI") return versionAtLeast("1.1", version || "1.1");
          return false;
        },
      },
      ui: {
        displayDialogAsync(url, options, callback) {
          const u = new URL(url);
          shownDialogs.push({ prompt: u.searchParams.get("prompt"), title: u.searchParams.get("title"), path: u.pathname });
          callback({ status: "succeeded", value: { addEventHandler() {}, close() {} } });
        },
        openBrowserWindow(url) { shownDialogs.push({ browser: url }); },
      },
    },
    actions: {
      associate(name, fn) { associations.set(name, fn); },
    },
    addin: {
      showAsTaskpane: async () => { taskpane.shown = (taskpane.shown || 0) + 1; },
      hide: async () => {},
    },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
  };
}
