import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * A local stand-in for the few GitHub REST endpoints pin-digest calls. The real API cannot be had here
 * (no internet on our machines), so tests run @octokit/rest against this server (via GITHUB_API_URL / baseUrl) and
 * assert the exact requests it received. Only these endpoints exist; anything else is a 404 and is
 * recorded, so a test notices an unexpected call.
 *
 *   GET   /repos/{o}/{r}                        default branch
 *   GET   /repos/{o}/{r}/git/ref/{ref}          one ref (tags/x, heads/x)
 *   GET   /repos/{o}/{r}/git/matching-refs/{p}  refs starting with p
 *   GET   /repos/{o}/{r}/git/tags/{sha}         an annotated tag object
 *   GET   /repos/{o}/{r}/pulls?head=&state=     open pull requests
 *   POST  /repos/{o}/{r}/pulls                  open a pull request
 *   PATCH /repos/{o}/{r}/pulls/{n}              update one
 *   POST  /repos/{o}/{r}/code-scanning/sarifs   accept a SARIF upload (202, as GitHub answers)
 */

export interface FakeTag {
  /** The commit the tag ends at. */
  commit: string;
  /** An annotated tag: its own object SHA, which must be peeled to reach the commit. */
  annotatedSha?: string;
}

export interface FakeRepo {
  defaultBranch?: string;
  tags?: Record<string, FakeTag>;
  branches?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received (percent-encoding kept). */
  url: string;
  authorization?: string;
  body?: unknown;
}

export interface FakePull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: "open" | "closed";
}

export interface FakeGitHub {
  url: string;
  requests: RecordedRequest[];
  pulls: Map<string, FakePull[]>;
  /**
   * Answer requests whose `METHOD path` starts with a key with that status instead: every one, or the
   * next `times` ones.
   */
  failures: Map<string, { status: number; message: string; times?: number }>;
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeGitHub(repos: Record<string, FakeRepo>): Promise<FakeGitHub> {
  const requests: RecordedRequest[] = [];
  const pulls = new Map<string, FakePull[]>();
  const failures = new Map<string, { status: number; message: string; times?: number }>();
  let nextPull = 1;

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = req.url ?? "/";
      requests.push({ method: req.method ?? "", url, authorization: req.headers.authorization, body });
      const parsed = new URL(url, "http://x");
      const path = parsed.pathname;
      for (const [prefix, failure] of failures) {
        if (!`${req.method} ${path}`.startsWith(prefix)) continue;
        if (failure.times !== undefined && --failure.times <= 0) failures.delete(prefix);
        return send(res, failure.status, { message: failure.message });
      }
      const m = /^\/repos\/([^/]+)\/([^/]+)(?:\/(.*))?$/.exec(path);
      const key = m ? `${m[1]}/${m[2]}` : "";
      const repo = repos[key];
      if (!m || !repo) return send(res, 404, { message: "Not Found" });
      const rest = m[3] ?? "";
      const base = `http://${req.headers.host}/repos/${key}`;
      const refObject = (ref: string) => {
        const [kind, ...nameParts] = ref.split("/");
        const name = nameParts.join("/");
        if (kind === "tags" && repo.tags?.[name]) {
          const t = repo.tags[name];
          return {
            ref: `refs/${ref}`,
            object: t.annotatedSha ? { type: "tag", sha: t.annotatedSha } : { type: "commit", sha: t.commit },
          };
        }
        if (kind === "heads" && repo.branches?.[name]) {
          return { ref: `refs/${ref}`, object: { type: "commit", sha: repo.branches[name] } };
        }
        return undefined;
      };

      if (req.method === "GET" && rest === "") {
        return send(res, 200, { full_name: key, default_branch: repo.defaultBranch ?? "main" });
      }
      if (req.method === "GET" && rest.startsWith("git/ref/")) {
        const found = refObject(decodeURIComponent(rest.slice("git/ref/".length)));
        return found ? send(res, 200, found) : send(res, 404, { message: "Not Found" });
      }
      if (req.method === "GET" && rest.startsWith("git/matching-refs/")) {
        const prefix = decodeURIComponent(rest.slice("git/matching-refs/".length));
        const all = [
          ...Object.keys(repo.tags ?? {}).map((n) => `tags/${n}`),
          ...Object.keys(repo.branches ?? {}).map((n) => `heads/${n}`),
        ];
        return send(res, 200, all.filter((r) => r.startsWith(prefix)).map(refObject));
      }
      if (req.method === "GET" && rest.startsWith("git/tags/")) {
        const sha = rest.slice("git/tags/".length);
        const tag = Object.values(repo.tags ?? {}).find((t) => t.annotatedSha === sha);
        return tag
          ? send(res, 200, { sha, object: { type: "commit", sha: tag.commit } })
          : send(res, 404, { message: "Not Found" });
      }
      const list = pulls.get(key) ?? [];
      pulls.set(key, list);
      const view = (p: FakePull) => ({ ...p, html_url: `${base}/pull/${p.number}`, head: { ref: p.head } });
      if (req.method === "GET" && rest === "pulls") {
        const head = parsed.searchParams.get("head");
        const state = parsed.searchParams.get("state") ?? "open";
        const matches = list.filter((p) => p.state === state && (!head || `${m[1]}:${p.head}` === head));
        return send(res, 200, matches.map(view));
      }
      if (req.method === "POST" && rest === "pulls") {
        const b = body as { head: string; base: string; title: string; body: string };
        const pull: FakePull = {
          number: nextPull++,
          head: b.head,
          base: b.base,
          title: b.title,
          body: b.body,
          state: "open",
        };
        list.push(pull);
        return send(res, 201, view(pull));
      }
      const patch = /^pulls\/(\d+)$/.exec(rest);
      if (req.method === "PATCH" && patch) {
        const pull = list.find((p) => p.number === Number(patch[1]));
        if (!pull) return send(res, 404, { message: "Not Found" });
        Object.assign(pull, body as Partial<FakePull>);
        return send(res, 200, view(pull));
      }
      if (req.method === "POST" && rest === "code-scanning/sarifs") {
        return send(res, 202, {
          id: `sarif-${requests.length}`,
          url: `${base}/code-scanning/sarifs/${requests.length}`,
        });
      }
      return send(res, 404, { message: "Not Found" });
    })().catch((e: unknown) => send(res, 500, { message: String(e) }));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    pulls,
    failures,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
