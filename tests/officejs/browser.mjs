// The few browser globals the add-in's scripts use, for running them under Node: location,
// a minimal document (the config element, event listeners, elements the scripts look up),
// XMLHttpRequest over node:http (what xlwings' request helper uses), storage, navigator.
import http from "node:http";
import https from "node:https";
import { Blob, File as NodeFile } from "node:buffer";
import { webcrypto } from "node:crypto";

let registry = new Map();     // id -> element, as document.getElementById finds them

class Element {
  constructor(tag, id = null) {
    this.tagName = tag.toUpperCase();
    this._id = null;
    if (id) this.id = id;
    this.attributes = new Map();
    this.children = [];
    this.listeners = new Map();
    this.classList = {
      set: new Set(),
      add: (...c) => c.forEach((x) => this.classList.set.add(x)),
      remove: (...c) => c.forEach((x) => this.classList.set.delete(x)),
      contains: (c) => this.classList.set.has(c),
    };
    this.textContent = "";
    this.value = "";
    this.files = [];
    this.className = "";
    this.style = {};
  }
  get id() { return this._id; }
  set id(v) {
    if (this._id) registry.delete(this._id);
    this._id = v;
    if (v) registry.set(v, this);
  }
  setAttribute(k, v) {
    if (k === "id") this.id = String(v);
    this.attributes.set(k, String(v));
  }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  hasAttribute(k) { return this.attributes.has(k); }
  removeAttribute(k) { this.attributes.delete(k); }
  appendChild(c) { this.children.push(c); return c; }
  removeChild(c) { this.children = this.children.filter((x) => x !== c); return c; }
  replaceChildren(...c) { this.children = c; }
  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }
  async dispatch(type, event = {}) {
    for (const fn of this.listeners.get(type) || []) await fn({ currentTarget: this, target: this, preventDefault() {}, ...event });
  }
  querySelector() { return null; }
  querySelectorAll() { return []; }
  focus() {}
}

export function installBrowser({ origin, configJson, elementIds = [] }) {
  const elements = new Map();
  registry = elements;
  const config = new Element("script", "config");
  config.textContent = configJson;
  elements.set("config", config);
  for (const id of elementIds) if (!elements.has(id)) new Element("div", id);
  const docListeners = new Map();
  const document = {
    getElementById: (id) => elements.get(id) || null,
    querySelector: (sel) => (sel.startsWith("#") ? elements.get(sel.slice(1)) || null : null),
    querySelectorAll: () => [],
    createElement: (tag) => new Element(tag),
    addEventListener: (type, fn) => {
      if (!docListeners.has(type)) docListeners.set(type, []);
      docListeners.get(type).push(fn);
    },
    body: new Element("body"),
  };
  const storage = () => {
    const m = new Map();
    return {
      getItem: (k) => (m.has(k) ? m.get(k) : null),
      setItem: (k, v) => m.set(k, String(v)),
      removeItem: (k) => m.delete(k),
      clear: () => m.clear(),
    };
  };
  globalThis.window = globalThis;
  globalThis.document = document;
  globalThis.location = new URL(origin);
  Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Mozilla/5.0 (Windows NT 10.0) ExcelDouble" }, configurable: true });
  globalThis.localStorage = storage();
  globalThis.sessionStorage = storage();
  globalThis.XMLHttpRequest = makeXhr();
  if (!globalThis.File) globalThis.File = NodeFile;
  if (!globalThis.Blob) globalThis.Blob = Blob;
  if (!globalThis.crypto) globalThis.crypto = webcrypto;  // Node 18: a browser global, not Node's
  return {
    elements,
    element: (id) => elements.get(id) || new Element("div", id),
    async fire(type) {
      for (const fn of docListeners.get(type) || []) await fn({});
    },
  };
}

export const traffic = [];   // every XHR: {method, url, status, requestBytes, responseBytes, receivedAt}

function makeXhr() {
  return class XMLHttpRequest {
    constructor() {
      this.headers = {};
      this.responseHeaders = {};
      this.status = 0;
      this.statusText = "";
      this.responseText = "";
      this.timeout = 0;
    }
    open(method, url) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(k, v) {
      if (!/^[\x00-\xff]*$/.test(String(v))) {
        throw new TypeError(`Failed to execute 'setRequestHeader' on 'XMLHttpRequest': String contains non ISO-8859-1 code point (${k}).`);
      }
      this.headers[k] = v;
    }
    getResponseHeader(k) {
      return this.responseHeaders[k.toLowerCase()] ?? null;
    }
    send(body) {
      const u = new URL(this.url);
      const mod = u.protocol === "https:" ? https : http;
      const data = body == null ? null : Buffer.from(body, "utf8");
      const headers = { ...this.headers };
      if (data) headers["Content-Length"] = String(data.length);
      headers.Origin = `${u.protocol}//${u.host}`;
      const rec = { method: this.method, url: u.pathname, requestBytes: data ? data.length : 0 };
      const req = mod.request(u, { method: this.method, headers, timeout: this.timeout || 0 }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          this.status = res.statusCode;
          this.statusText = res.statusMessage;
          this.responseHeaders = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
          this.responseText = buf.toString("utf8");
          Object.assign(rec, { status: res.statusCode, responseBytes: buf.length, receivedAt: performance.now(), body: this.responseText });
          traffic.push(rec);
          this.onload && this.onload();
        });
      });
      req.on("error", () => this.onerror && this.onerror());
      req.on("timeout", () => { req.destroy(); this.ontimeout && this.ontimeout(); });
      if (data) req.write(data);
      req.end();
    }
    abort() {
      this.onabort && this.onabort();
    }
  };
}
