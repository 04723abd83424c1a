/**
 * Pure markdown rendering for job summaries. Block renderers return text without a trailing newline; join
 * blocks with "\n\n".
 */

type Cell = string | number;

/** A table cell on one line: `|` would end the cell and a newline the row. */
function tableCell(value: Cell): string {
  return String(value)
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n|\r/g, "<br>");
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  if (headers.length === 0) throw new Error("markdownTable: at least one header is needed");
  const line = (cells: readonly Cell[]) => `| ${cells.map(tableCell).join(" | ")} |`;
  const body = rows.map((row, index) => {
    if (row.length > headers.length) {
      throw new Error(
        `markdownTable: row ${index + 1} has ${row.length} cells for ${headers.length} headers`,
      );
    }
    return line([...row, ...Array<string>(headers.length - row.length).fill("")]);
  });
  return [line(headers), line(headers.map(() => "---")), ...body].join("\n");
}

/** A fenced block whose fence is longer than any backtick run inside, so the text cannot close it. */
export function codeBlock(text: string, lang = ""): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return `${fence}${lang}\n${text.replace(/\n$/, "")}\n${fence}`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A collapsed section; the blank lines let markdown inside `body` render. */
export function details(summary: string, body: string): string {
  return `<details><summary>${escapeHtml(summary)}</summary>\n\n${body}\n\n</details>`;
}

export function heading(text: string, level: 1 | 2 | 3 | 4 | 5 | 6 = 2): string {
  if (!Number.isInteger(level) || level < 1 || level > 6)
    throw new Error(`heading: level ${level} is not 1 to 6`);
  return `${"#".repeat(level)} ${text.replace(/\s*[\r\n]+\s*/g, " ").trim()}`;
}

/** "850 ms", "4.2 s", "1 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (Math.round(value) < 1000) return `${Math.round(value)} ms`;
  const tenths = Math.round(value / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(value / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad2(seconds % 60)} s`;
  const minutes = Math.round(value / 60_000);
  return `${Math.floor(minutes / 60)} h ${pad2(minutes % 60)} min`;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units with three significant digits: "0 B", "1.5 KiB", "12.3 MiB", "1.02 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  const sign = bytes < 0 ? "-" : "";
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  let shown = value >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(3)));
  // 1023.9 KiB rounds to "1024 KiB": say "1 MiB" instead.
  if (shown === "1024" && unit < BYTE_UNITS.length - 1) {
    shown = "1";
    unit++;
  }
  return `${sign}${shown} ${BYTE_UNITS[unit]}`;
}
