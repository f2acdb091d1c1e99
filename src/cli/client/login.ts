// `gatehouse login`: checks a key against a Gatehouse server, picks a workspace, saves the profile
// and prints the settings for a Prefect execution environment. Like `prefect cloud login -k`.
import { UsageError } from '../args.js';
import { maskKey, parseKey } from '../../domain/api-keys/key-format.js';
import type { CommandInput } from '../commands.js';
import { checkWorkspaceRef, type ConnectionFlags } from './flags.js';
import { DEFAULT_URL, GatehouseApi } from './http.js';
import { ENV_LINES_NOTE, prefectApiUrl, prefectEnvironment, printJson, printLines, say } from './output.js';
import { checkProfileName, DEFAULT_PROFILE, profilesPath, readProfiles, writeProfiles } from './profiles.js';
import { interactive, pickNumber } from './prompt.js';
import { checkedUrl, findWorkspace, myWorkspaces, workspaceRef, type MyWorkspace } from './session.js';

interface Flags extends ConnectionFlags {
  key?: string;
  workspace?: string;
}

export async function loginCommand(input: CommandInput): Promise<number> {
  const flags = input.flags as Flags;
  if (!flags.key) throw new UsageError('missing --key KEY (a pnb_ service account key or a pnu_ user key)');
  const url = checkedUrl(flags.url ?? process.env.GATEHOUSE_URL ?? DEFAULT_URL);
  const requested = flags.workspace === undefined ? undefined : checkWorkspaceRef(flags.workspace, '--workspace');
  const path = profilesPath();
  const file = readProfiles(path);
  const name = checkProfileName(flags.profile ?? file.active ?? DEFAULT_PROFILE);

  // Refused here, without a request, like the server would: a key copied in part, or not a key.
  if (!parseKey(flags.key)) {
    throw new Error('--key is not a Gatehouse API key: a key is pnb_ (service account) or pnu_ (user) followed by 36 letters and digits, the last 6 a checksum; check that it was copied whole');
  }
  const api = new GatehouseApi(url, flags.key, 'the server does not accept this key: it is unknown, expired, revoked or rotated out; ask for a new key');
  const workspaces = await myWorkspaces(api);
  if (workspaces.length === 0) {
    throw new Error(`the key is valid but reaches no workspace on ${url}; ask an account Owner or Admin to share a workspace with it (gatehouse workspace-access grant)`);
  }

  let chosen: MyWorkspace;
  if (requested !== undefined) chosen = findWorkspace(workspaces, requested);
  else if (workspaces.length === 1) chosen = workspaces[0];
  else if (interactive()) {
    say('The key reaches these workspaces:');
    workspaces.forEach((w, i) => say(`  ${i + 1}. ${workspaceRef(w)}  (${w.workspace_name})`));
    const n = await pickNumber(`Which one (1-${workspaces.length})? `, workspaces.length);
    if (n === null) return 2;
    chosen = workspaces[n - 1];
  } else {
    throw new UsageError(`the key reaches ${workspaces.length} workspaces; choose one with ${workspaces.map((w) => `--workspace ${workspaceRef(w)}`).join(' or ')}`);
  }

  file.profiles[name] = {
    url,
    key: flags.key,
    account_id: chosen.account_id,
    account_handle: chosen.account_handle,
    workspace_id: chosen.workspace_id,
    workspace_handle: chosen.workspace_handle,
  };
  file.active = name;
  writeProfiles(file, path);
  say(`Logged in to ${url} with ${maskKey(flags.key)}, workspace ${workspaceRef(chosen)}. Saved as profile "${name}" (now active) in ${path}.`);
  if (flags.json) {
    printJson({
      profile: name,
      url,
      account_id: chosen.account_id,
      workspace_id: chosen.workspace_id,
      workspace: workspaceRef(chosen),
      prefect_api_url: prefectApiUrl(url, chosen),
      prefect_cloud_api_url: `${url}/api`,
    });
  } else {
    say(ENV_LINES_NOTE);
    printLines(prefectEnvironment(url, chosen, flags.key));
  }
  return 0;
}
