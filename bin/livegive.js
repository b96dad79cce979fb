#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx livegive …` works from a checkout without a build step.
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const root = path.resolve(__dirname, '..');
const built = path.join(root, 'dist', 'cli.js');
const fs = require('node:fs');
const args = fs.existsSync(built) && !process.env.LIVEGIVE_FROM_SOURCE
  ? [built, ...process.argv.slice(2)]
  : ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
