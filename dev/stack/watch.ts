import { existsSync, type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { basename, extname, join, sep } from "node:path";
import { localModules } from "./module-graph.ts";

/** A running watcher. */
export interface Watcher {
  close(): void;
}

// One save is up to four events (an atomic rename-and-replace save gave four within 2 ms);
// 100 ms of quiet ends a burst while a reload still starts well inside a second.
const QUIET_MS = 100;

// Editors' scratch files: swap files, backups, vim's `4913` probe, sed's `sedXXXXXX`, JetBrains'
// `___jb_tmp___`. Every file a function can import has an extension.
function isScratch(file: string): boolean {
  const name = basename(file);
  return !extname(name) || /^[.#]/.test(name) || /(~|___|\.sw[a-p]|\.tmp)$/.test(name);
}

/**
 * Calls `onBurst` with the files under `dir` (relative paths) that changed in one burst of
 * saves, once it settles; bursts are handed over one at a time. Each folder gets its own
 * `fs.watch`, and new folders are watched as they appear: Node 20's `recursive` mode on Linux
 * watches files one by one and, measured on 20.20, misses every later edit of a file that an
 * editor once saved by rename-and-replace. No dependency needed.
 */
export function watchFiles(
  dir: string,
  onBurst: (files: string[]) => Promise<void>,
  log: (line: string) => void,
): Watcher {
  const watchers = new Map<string, FSWatcher>();
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> = Promise.resolve();

  const touched = (file: string) => {
    if (isScratch(file)) return;
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed].sort();
      changed = new Set();
      busy = busy.then(() => onBurst(files)).catch((error) => log(`watch: ${String(error)}`));
    }, QUIET_MS);
  };

  const unwatch = (folder: string) => {
    for (const [path, watcher] of watchers) {
      if (path === folder || path.startsWith(folder + sep)) {
        watcher.close();
        watchers.delete(path);
      }
    }
  };

  // A folder that appears after the start may be filled before its watcher: its files count as changed.
  const watchFolder = (folder: string, appeared: boolean) => {
    if (watchers.has(folder)) return;
    try {
      const watcher = watch(join(dir, folder), (_event, name) => {
        if (!name) return;
        const file = folder ? join(folder, name.toString()) : name.toString();
        // A folder's own entry changed: created, or replaced (a checkout), so watch it afresh.
        unwatch(file);
        if (isFolder(join(dir, file))) watchFolder(file, true);
        else touched(file);
      });
      watcher.on("error", () => unwatch(folder));
      watchers.set(folder, watcher);
      for (const entry of readdirSync(join(dir, folder), { withFileTypes: true })) {
        const file = folder ? join(folder, entry.name) : entry.name;
        if (entry.isDirectory()) watchFolder(file, appeared);
        else if (appeared) touched(file);
      }
    } catch {
      unwatch(folder); // removed again while being watched
    }
  };
  watchFolder("", false);

  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Which functions a burst of changed files (relative to `dir`) concerns, each with the files
 * that concern it: its own folder's files, and any other file its module graph holds. Shared
 * files are looked up in each function's graph, so an edit of `_shared/ssrf.ts` reloads the two
 * webhook functions that import it, not all seven.
 */
export async function affectedFunctions(dir: string, names: string[], files: string[]): Promise<Map<string, string[]>> {
  const affected = new Map<string, string[]>();
  const add = (name: string, file: string) => affected.set(name, [...(affected.get(name) ?? []), file]);
  const elsewhere: string[] = [];
  for (const file of files) {
    const [top, ...rest] = file.split(sep);
    if (names.includes(top)) add(top, rest.join(sep));
    else elsewhere.push(file);
  }
  if (elsewhere.length > 0) {
    const graphs = await Promise.all(names.map((name) => localModules(join(dir, name, "index.ts"))));
    for (const [i, name] of names.entries()) {
      for (const file of elsewhere) if (!graphs[i] || graphs[i].has(join(dir, file))) add(name, file);
    }
  }
  return affected;
}

/** New function folders in a burst: `<name>/index.ts` created for a name not served yet. */
export function newFunctions(dir: string, names: string[], files: string[]): string[] {
  return [...new Set(files.map((file) => file.split(sep)[0]))]
    .filter((top) => !top.startsWith("_") && !names.includes(top) && existsSync(join(dir, top, "index.ts")));
}
