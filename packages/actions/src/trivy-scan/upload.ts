import { readFile } from "node:fs/promises";
import { Octokit } from "@octokit/rest";
import type { Logger } from "@frostyard/kit";
import { sarifUploadRequest, uploadFailureMessage, uploadSkipReason, type SarifLog } from "@frostyard/trivy";

export interface UploadOutcome {
  uploaded: boolean;
  id?: string;
  skipped?: string;
}

async function eventPayload(env: Record<string, string | undefined>): Promise<unknown> {
  if (!env.GITHUB_EVENT_PATH) return {};
  return JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8").catch(() => "{}")) as unknown;
}

/** Sends the shaped SARIF to code scanning, or says why not (fork PRs, no API) with a notice. */
export async function uploadToCodeScanning(
  log: SarifLog,
  token: string | undefined,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<UploadOutcome> {
  const skipped =
    uploadSkipReason(env, await eventPayload(env)) ?? (token ? undefined : "no token was given");
  if (skipped) {
    const message = `SARIF not uploaded to code scanning: ${skipped}`;
    if (logger.notice) logger.notice(message);
    else logger.info(message);
    return { uploaded: false, skipped };
  }
  const octokit = new Octokit({
    auth: token,
    baseUrl: env.GITHUB_API_URL,
    log: { debug: () => {}, info: () => {}, warn: logger.warning, error: logger.error },
  });
  const request = sarifUploadRequest(env.GITHUB_REPOSITORY!, env.GITHUB_SHA!, env.GITHUB_REF!, log);
  try {
    const response = await octokit.rest.codeScanning.uploadSarif({ ...request });
    const id = (response.data as { id?: string }).id;
    logger.info(`SARIF uploaded to code scanning${id ? ` (id ${id})` : ""}`);
    return { uploaded: true, ...(id ? { id } : {}) };
  } catch (error) {
    const status = (error as { status?: number }).status;
    throw new Error(uploadFailureMessage(status, (error as Error).message), { cause: error });
  }
}
