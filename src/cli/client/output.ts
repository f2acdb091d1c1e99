// How the client commands print. Data goes to standard output (tables, one-line JSON, NAME=value
// lines); messages for the person go to standard error, so `> worker.env` or `| jq` get only data.

/** The settings that point a Prefect client at a workspace through Gatehouse, as NAME=value lines. */
export function prefectEnvironment(url: string, w: { account_id: string; workspace_id: string }, key?: string): string[] {
  return [
    `PREFECT_API_URL=${prefectApiUrl(url, w)}`,
    ...(key === undefined ? [] : [`PREFECT_API_KEY=${key}`]),
    // Cloud mode: events carry the key, and there is no CSRF or version handshake.
    `PREFECT_CLOUD_API_URL=${url}/api`,
  ];
}

export function prefectApiUrl(url: string, w: { account_id: string; workspace_id: string }): string {
  return `${url}/api/accounts/${w.account_id}/workspaces/${w.workspace_id}`;
}

export const ENV_LINES_NOTE = 'NAME=value lines on standard output: for `env`, a .env file or `prefect config set`.';

export function printLines(lines: string[]): void {
  for (const line of lines) console.log(line);
}

/** One line of JSON, so that the last line of output can be parsed by a script. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value));
}

export function say(message: string): void {
  console.error(message);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function printTable(header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  for (const row of all) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

export const expirationText = (expiration: string | null | undefined) => (expiration ? `expires ${expiration}` : 'never expires');
