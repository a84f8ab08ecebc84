/** Finding a command's executable the way execvp does, with the error runc would give. */
import fs from 'node:fs';
import path from 'node:path';

/** The executable a command names, searched like execvp (PATH from the pod's env); the error as runc words it. */
export function findExecutable(cmd: string, env: Record<string, string>, cwd: string | undefined): { path: string } | { error: string } {
  const usable = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const base = cwd ?? process.cwd();
  if (cmd.includes('/')) {
    const p = path.resolve(base, cmd);
    return usable(p) ? { path: p } : { error: `exec: ${JSON.stringify(cmd)}: ${fs.existsSync(p) ? 'permission denied' : 'no such file or directory'}` };
  }
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.resolve(base, dir || '.', cmd);
    if (usable(p)) return { path: p };
  }
  return { error: `exec: ${JSON.stringify(cmd)}: executable file not found in $PATH` };
}
