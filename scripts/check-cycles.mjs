#!/usr/bin/env node
// Fails on circular imports among src/ and jobs/ (relative imports only). No dependency needed:
// the import graph of this project is plain ESM with explicit `.js` specifiers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const files = [];
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
};
for (const d of ['src', 'jobs']) walk(join(root, d));

const graph = new Map();
const spec = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g;
for (const f of files) {
  const deps = [];
  for (const m of readFileSync(f, 'utf8').matchAll(spec)) {
    if (/^\s*import\s+type\s/.test(m[0].trim()) || /^\s*export\s+type\s/.test(m[0].trim())) continue;
    deps.push(resolve(dirname(f), m[1]).replace(/\.js$/, '.ts'));
  }
  graph.set(f, deps);
}

const state = new Map();
const stack = [];
const cycles = [];
const visit = (n) => {
  state.set(n, 1);
  stack.push(n);
  for (const d of graph.get(n) ?? []) {
    if (!graph.has(d)) continue;
    if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(root, x)));
    else if (!state.get(d)) visit(d);
  }
  stack.pop();
  state.set(n, 2);
};
for (const f of graph.keys()) if (!state.get(f)) visit(f);

if (cycles.length) {
  for (const c of cycles) console.error(`circular import: ${c.join(' → ')}`);
  process.exit(1);
}
console.log(`no circular imports (${graph.size} modules)`);
