#!/usr/bin/env node
/* global process, console */
// `npm run build` runs this after tsc (postbuild): every file under src/ that is not TypeScript (the overlay's
// and consoles' static pages, anything a slice reads next to its code) is copied to the same place under dist/,
// so the compiled service runs without src/ (the production image ships dist/ only).
import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.resolve(root, process.argv[2] ?? 'dist');
let copied = 0;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const from = path.join(dir, name);
    if (statSync(from).isDirectory()) walk(from);
    else if (!name.endsWith('.ts')) {
      cpSync(from, path.join(dist, path.relative(src, from)));
      copied++;
    }
  }
}

walk(src);
console.log(`copy-assets: ${copied} file(s) from src/ to ${path.relative(root, dist) || '.'}/`);
