import { spawn } from 'node:child_process';
import { mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The last commit before Version 2 (SPEC.md): the hub whose enqueue → start
 * an independent measurement put at 6–8 ms p99 when issue 13 was filed. Its
 * hub runs beside today's in measure 1, so that the 12 ms bound can be read
 * as a ratio on any machine.
 */
export const PRE_VERSION_2_COMMIT = '44d004c';

export interface BaselineCheckout {
  /** the extracted tree: run `src/main.ts` there */
  readonly dir: string;
  remove(): Promise<void>;
}

/**
 * Extracts the hub's tree at `commit` (`git archive`) under `.data/`, with
 * this checkout's `node_modules` linked in (the dependencies it needs are a
 * subset of today's, at the same or a patch-older version). A string says
 * why not (no git, or a clone without that commit, e.g. a shallow one).
 */
export async function checkoutBaseline(commit: string): Promise<BaselineCheckout | string> {
  const dir = path.resolve(`.data/bench-baseline-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await extract(commit, dir);
    await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
    return { dir, remove };
  } catch (error) {
    await remove();
    return `no checkout of ${commit}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** `git archive <commit> | tar -x -C <dir>` */
async function extract(commit: string, dir: string): Promise<void> {
  const git = spawn('git', ['archive', '--format=tar', commit], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  git.stdout.pipe(tar.stdin);
  const stderr: string[] = [];
  git.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  tar.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exit = (child: ReturnType<typeof spawn>) =>
    new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
  const [gitCode, tarCode] = await Promise.all([exit(git), exit(tar)]);
  if (gitCode !== 0 || tarCode !== 0) throw new Error(stderr.join('').trim() || `git ${gitCode}, tar ${tarCode}`);
}
