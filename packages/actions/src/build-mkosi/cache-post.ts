import { saveBuildCache, type BuildCacheState } from "@frostyard/mkosi";
import { coreLogger, readState, saveState, STATE, writeSummary } from "..";
import { selectBuildCache } from "./cache-store";
import { savedCacheMarkdown } from "./report";

/** The main step's half: keeps where mkosi's cache is for the post step, as soon as the build knows it. */
export function keepCacheStateForPost(state: BuildCacheState): void {
  saveState(STATE.buildCache, JSON.stringify(state));
}

/**
 * The post step of build-mkosi and of the root action: saves mkosi's cache directory, also after a failed
 * build, and adds what became of it to the job summary.
 */
export async function saveCacheInPost(): Promise<void> {
  const raw = readState(STATE.buildCache);
  if (!raw) return;
  const state = JSON.parse(raw) as BuildCacheState;
  let savedBytes: number | undefined;
  const outcome = await saveBuildCache(state, {
    logger: coreLogger,
    cache: selectBuildCache(),
    onSaved: (bytes) => (savedBytes = bytes),
  });
  // A blank line first: the main step's summary ends in a table, which would otherwise swallow this line.
  await writeSummary(`\n${savedCacheMarkdown(state.key, outcome, savedBytes)}`);
}
