/**
 * Rewrites profiles/catalogues/cloud.csv and every profiles/problems/<name>/
 * from the generators (deterministic: same code, same bytes).
 * Run: npm run profiles:generate
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './problems.js';

/** The source profiles/ folder, from either profiles/ or dist/profiles/. */
export function profilesDir(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'profiles');
    dir = join(dir, '..');
  }
  throw new Error('generate: cannot find the package root from ' + import.meta.url);
}

function main(): void {
  const root = profilesDir();
  const files = generatedFiles();
  // Only writes: other folders under problems/ (e.g. local-* from `placer profile`) are not ours to delete.
  for (const [path, text] of files) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  console.log(`wrote ${files.size} files under ${root}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
