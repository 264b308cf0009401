import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The parts of src/ and the direction they depend in, read from the imports
 * themselves. A part may import only the parts listed before it. ORM entities
 * referring to each other are the one exception (their relations point both ways).
 */
const LAYERS: readonly string[][] = [
  ['config'],
  ['database'],
  ['common'],
  ['graphql'],
  ['observability'],
  ['fl-backends'],
  ['sim-nets', 'console'],
  ['events'],
  ['modules/trusts'],
  ['modules/models'],
  // the lifecycle's states and their SQL: below every module that reads a job's status
  ['modules/jobs/lifecycle/states.ts'],
  ['modules/jobs/lifecycle/fragments.ts'],
  ['modules/nets'],
  ['modules/jobs'],
  ['modules/schedulers/net-state'],
  ['modules/schedulers/running'],
  ['modules/schedulers/picking-up'],
  ['modules/schedulers'],
  ['modules/entities.ts'],
  ['health'],
  ['app.module.ts'],
  ['hub.ts'],
  ['main.ts'],
];
const LOWER_PARTS = ['config', 'database', 'common', 'fl-backends', 'observability'];

const SRC = resolve(import.meta.dirname);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The most specific part a file belongs to. */
function partOf(file: string): string {
  const path = relative(SRC, file);
  const candidates = LAYERS.flat().filter((part) => path === part || path.startsWith(`${part}/`));
  if (candidates.length === 0) throw new Error(`${path} belongs to no part: add its folder to LAYERS`);
  return candidates.sort((a, b) => b.length - a.length)[0];
}

const rank = (part: string) => LAYERS.findIndex((layer) => layer.includes(part));

interface Import {
  from: string;
  to: string;
  fromPart: string;
  toPart: string;
}

function imports(): Import[] {
  return sourceFiles(SRC).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => {
      const target = resolve(dirname(file), m[1]).replace(/\.js$/, '.ts');
      return {
        from: relative(SRC, file),
        to: relative(SRC, target),
        fromPart: partOf(file),
        toPart: partOf(target),
      };
    });
  });
}

describe('the structure of src/', () => {
  const all = imports();
  const crossing = all.filter((i) => i.fromPart !== i.toPart && !(i.from.endsWith('.entity.ts') && i.to.endsWith('.entity.ts')));

  it('reads imports between parts (the check sees the code)', () => {
    expect(crossing.length).toBeGreaterThan(50);
  });

  it('has parts that depend in one direction only: each imports only parts below it', () => {
    const upward = crossing.filter((i) => rank(i.toPart) >= rank(i.fromPart)).map((i) => `${i.from} -> ${i.to}`);
    expect(upward).toEqual([]);
  });

  it('keeps the lower parts free of the domain modules', () => {
    const intoModules = crossing
      .filter((i) => LOWER_PARTS.includes(i.fromPart) && i.toPart.startsWith('modules'))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(intoModules).toEqual([]);
  });
});
