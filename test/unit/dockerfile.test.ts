/**
 * The image ships what the package ships: every entry of package.json `files` (the compiled code,
 * the dashboard's assets, the default policy packs) is copied into the Dockerfile's final stage.
 * There is no Docker engine here, so the Dockerfile is held to the package by reading it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('Dockerfile', () => {
  it("copies every path of package.json's files into the final stage", () => {
    const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files.filter(
      (f) => !f.startsWith('!'),
    );
    const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const final = docker.slice(docker.lastIndexOf('\nFROM '));
    const copied = [...final.matchAll(/^COPY(?:\s+--from=\S+)?\s+(\S+)\s+(\S+)\s*$/gm)].map((m) =>
      m[2]!.replace(/^\.\//, '').replace(/\/?$/, '/'),
    );
    expect(copied.length).toBeGreaterThan(3);
    for (const f of files) {
      const want = f.replace(/\/?$/, '/');
      expect(
        copied.some((c) => want.startsWith(c)),
        `${f} (package.json files) is not copied into the image: ${copied.join(', ')}`,
      ).toBe(true);
    }
  });
});
