/** One entry of `systemd-dissect --mtree`: the image's own view of a path, not the build tree's. */
export interface MtreeEntry {
  /** Relative to the image root, no leading "./" or "/", no trailing "/" ("" is the root). */
  path: string;
  type: "dir" | "file" | "link" | "block" | "char" | "fifo" | "socket" | string;
  mode?: number;
  size?: number;
  sha256?: string;
  link?: string;
}

/** mtree escapes bytes outside the printable set as `\ooo` (octal); spaces are `\040`. */
function unescapeMtree(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const octal = /^\\([0-7]{3})/.exec(text.slice(i, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[1]!, 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(text[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Parses `systemd-dissect --mtree` output (one `path key=value…` line per entry). */
export function parseMtree(text: string): MtreeEntry[] {
  const entries: MtreeEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [rawPath = "", ...fields] = line.split(" ");
    const path = unescapeMtree(rawPath)
      .replace(/^\.\/?/, "")
      .replace(/\/+$/, "");
    const entry: MtreeEntry = { path, type: "unknown" };
    for (const field of fields) {
      const eq = field.indexOf("=");
      if (eq < 0) continue;
      const key = field.slice(0, eq);
      const value = field.slice(eq + 1);
      if (key === "type") entry.type = value;
      else if (key === "mode") entry.mode = parseInt(value, 8);
      else if (key === "size") entry.size = Number(value);
      else if (key === "sha256sum") entry.sha256 = value;
      else if (key === "link") entry.link = unescapeMtree(value);
    }
    entries.push(entry);
  }
  return entries;
}
