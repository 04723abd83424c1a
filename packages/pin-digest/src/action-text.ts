/** A `uses:` value naming a GitHub action or reusable workflow at a ref. */
export interface ActionText {
  owner: string;
  repo: string;
  /** Sub-directory or workflow file inside the repository, without a leading slash. */
  path?: string;
  ref: string;
}

const ACTION = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+)((?:\/[^@\s]+)?)@(\S+)$/;
const FULL_SHA = /^[0-9a-f]{40}$/;

export function isLocalAction(uses: string): boolean {
  return uses.startsWith("./") || uses.startsWith("../");
}

export function isFullSha(ref: string): boolean {
  return FULL_SHA.test(ref);
}

/** Parses `owner/repo[/path]@ref`; throws an Error naming what was found and what is accepted. */
export function splitAction(uses: string): ActionText {
  const m = ACTION.exec(uses);
  if (!m) {
    const why = uses.includes("@") ? "not of the form owner/repo[/path]@ref" : "it has no @ref";
    throw new Error(
      `'${uses}' is not a valid action reference: ${why}; expected owner/repo[/path]@ref, ./local/path or docker://image`,
    );
  }
  const [, owner, repo, path, ref] = m as unknown as [string, string, string, string, string];
  return { owner, repo, path: path ? path.slice(1) : undefined, ref };
}

/** `owner/repo[/path]` */
export function actionName(a: ActionText): string {
  return `${a.owner}/${a.repo}${a.path ? `/${a.path}` : ""}`;
}
