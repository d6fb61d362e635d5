#!/usr/bin/env node
// SheetJS (npm "xlsx", pinned in package.json) reads workbooks as a third engine for the
// cross-engine test (tests/test_portability.py).
//   node tools/sheetjs/dump.js FILE...   → JSON on stdout:
//   {"engine": "SheetJS 0.18.5", "files": [{"file", "error"?, "sheets": [{"name", "state",
//     "cells": {"A1": [type, value, formula|null], ...}}]}]}
// type: "n" number, "s" text, "b" boolean, "e" error (value "#N/A" ...). A formula cell's value
// is the one cached in the file (SheetJS computes nothing); a formula with no cached value has
// value null (read with sheetStubs: without it SheetJS drops such a cell, formula and all; an
// empty cell that has only a format is a stub too, value null). Nothing is normalised here: the
// test does that, and says how.
"use strict";
const XLSX = require("xlsx");

const ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
                0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"};
const STATES = ["visible", "hidden", "veryHidden"];

function dumpSheet(ws) {
  const cells = {};
  for (const addr of Object.keys(ws)) {
    if (addr[0] === "!") continue;
    const c = ws[addr];
    const f = c.f === undefined ? null : c.f;
    let v = c.v === undefined ? null : c.v;
    let t = c.t;
    if (t === "e") v = ERRORS[v] !== undefined ? ERRORS[v] : (c.w || String(v));
    else if (t === "z") { t = "s"; v = null; }
    cells[addr] = [t, v, f];
  }
  return cells;
}

function dumpFile(file) {
  let wb;
  try {
    wb = XLSX.readFile(file, {cellFormula: true, cellHTML: false, cellText: false, cellDates: false,
                              cellNF: false, cellStyles: false, sheetStubs: true, bookVBA: false});
  } catch (e) {
    return {file, error: String(e && e.message || e)};
  }
  const meta = (wb.Workbook && wb.Workbook.Sheets) || [];
  return {
    file,
    sheets: wb.SheetNames.map((name, i) => ({
      name,
      state: STATES[(meta[i] && meta[i].Hidden) || 0],
      cells: dumpSheet(wb.Sheets[name]),
    })),
  };
}

const files = process.argv.slice(2);
if (!files.length) {
  process.stderr.write("usage: node dump.js FILE...\n");
  process.exit(2);
}
process.stdout.write(JSON.stringify({engine: `SheetJS ${XLSX.version}`, files: files.map(dumpFile)}));
