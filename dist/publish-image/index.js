// dist/<name>/index.js, copied here by scripts/build.mjs: stack traces name our TypeScript sources, at no
// cost to startup. Node's own source maps (--enable-source-maps, process.setSourceMapsEnabled) cannot do
// that: an action cannot pass node flags, the switch only covers modules loaded after it, and when on,
// Node measures every line of a bundle as it loads (~30 ms of CPU for a 1.6 MB bundle). Here the map of a
// file is read only when a stack that passes through it is first formatted (a failing action prints one).
const maps = new Map();

function mapOf(fileUrl) {
  if (!maps.has(fileUrl)) {
    let map;
    try {
      const { readFileSync } = process.getBuiltinModule("node:fs");
      const { SourceMap } = process.getBuiltinModule("node:module");
      map = new SourceMap(JSON.parse(readFileSync(new URL(`${fileUrl}.map`), "utf8")));
    } catch {
      map = undefined; // no map beside it: its frames stay as they are
    }
    maps.set(fileUrl, map);
  }
  return maps.get(fileUrl);
}

function mappedFrame(callSite) {
  const frame = String(callSite);
  const file = callSite.getFileName();
  const line = callSite.getLineNumber();
  const column = callSite.getColumnNumber();
  if (!file?.startsWith("file://") || !line || !column) return frame;
  const entry = mapOf(file)?.findEntry(line - 1, column - 1);
  if (!entry?.originalSource) return frame;
  const source = new URL(entry.originalSource, file).pathname;
  return frame.replace(`${file}:${line}:${column}`, `${source}:${entry.originalLine + 1}`);
}

Error.prepareStackTrace = (error, callSites) => {
  let header;
  try {
    header = String(error);
  } catch {
    header = "Error";
  }
  return [header, ...callSites.map((site) => `    at ${mappedFrame(site)}`)].join("\n");
};

await import("./bundle.js");
