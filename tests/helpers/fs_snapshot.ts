/**
 * Test helper: a listing of every file under a directory with size and mtime, to prove
 * that an operation wrote nothing.
 *
 * @module
 */

/**
 * Lists `path size mtime-ms` for every file under `root`, sorted.
 *
 * @param root directory
 * @returns one line per file
 */
export async function snapshotFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else {
        const st = await Deno.lstat(p);
        out.push(`${p} ${st.size} ${st.mtime?.getTime()}`);
      }
    }
  };
  await walk(root);
  return out.sort();
}
