#!/usr/bin/env node
/*
 * GeoJSON semantics with check-geojson (@placemarkio/check-geojson, pinned in
 * package.json here; `npm ci --prefix tests/products` installs it).
 *
 *   usage: check_geojson.js FILE...    each file must have no issue
 *          check_geojson.js --self-test the checker must find the issues of known-bad documents
 *
 * Prints one line per file (or the issues with their positions) and exits 1 on any issue,
 * 2 when check-geojson is not installed.
 */
'use strict';
const fs = require('fs');
const path = require('path');

let getIssues;
try {
  ({ getIssues } = require(path.join(__dirname, 'node_modules', '@placemarkio', 'check-geojson')));
} catch (e) {
  console.error('check-geojson is not installed: run `npm ci --prefix tests/products` (scripts/deps.sh does)');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args[0] === '--self-test') {
  /* each must be refused: a position of one number, a ring not closed, a Feature without geometry */
  const bad = [
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1]}}]}',
    '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}',
    '{"type":"Feature","properties":{}}',
  ];
  const good = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"marking":"U"},' +
    '"geometry":{"type":"Point","coordinates":[-99.9,17.9]}}]}';
  let ok = getIssues(good).length === 0;
  for (const b of bad)
    if (getIssues(b).length === 0) {
      console.error(`self-test: no issue found in ${b}`);
      ok = false;
    }
  console.log(ok ? 'check-geojson self-test: ok' : 'check-geojson self-test: FAILED');
  process.exit(ok ? 0 : 1);
}
let failed = 0;
for (const f of args) {
  const issues = getIssues(fs.readFileSync(f, 'utf8'));
  if (issues.length) {
    failed = 1;
    for (const i of issues.slice(0, 10))
      console.log(`INVALID ${f}: check-geojson: ${i.message} (offset ${i.from}-${i.to})`);
  } else
    console.log(`check-geojson ${f}: no issue`);
}
process.exit(failed);
