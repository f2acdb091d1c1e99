// A new API key, shown once: the key with Copy, the warning, and (for a service account) the
// commands that configure an execution environment for one of the account's workspaces. Other
// secrets shown once (a SCIM token, a webhook's signing secret) have the warning and Copy too.
import { useId, useState, type ReactNode } from 'react';
import type { Workspace } from '../api';
import { formatExpiration } from '../format';
import { CopyField } from './CopyField';

interface Props {
  apiKey: string;
  expiration: string | null;
  /** For a service account key: the account whose workspaces the commands can point at. */
  account?: { id: string; handle: string; workspaces: Workspace[] };
}

export function KeyReveal({ apiKey, expiration, account }: Props) {
  return (
    <div className="key-reveal" data-testid="key-reveal">
      <p className="warning" role="note">
        <strong>Copy this key now.</strong> It cannot be shown again: Gatehouse keeps only a digest of it. If you lose it, rotate the key.
      </p>
      <CopyField label="API key" value={apiKey} copyLabel="Copy API key" what="API key" testId="api-key-value" />
      <p className="muted">Expires: {formatExpiration(expiration)}</p>
      {account && <ExecutionConfig apiKey={apiKey} account={account} />}
    </div>
  );
}

function ExecutionConfig({ apiKey, account }: { apiKey: string; account: NonNullable<Props['account']> }) {
  const pickerId = useId();
  const [workspaceId, setWorkspaceId] = useState(account.workspaces[0]?.id ?? '');
  const origin = window.location.origin;
  const workspace = account.workspaces.find((w) => w.id === workspaceId);

  return (
    <section className="exec-config" aria-labelledby={`${pickerId}-heading`}>
      <h3 id={`${pickerId}-heading`}>Configure an execution environment</h3>
      <p className="field-hint">Set this first, so that the Prefect CLI talks to this Gatehouse instead of Prefect Cloud.</p>
      <CopyField
        label="Point the Prefect CLI at this Gatehouse"
        value={`PREFECT_CLOUD_API_URL=${origin}/api`}
        copyLabel="Copy Cloud API URL"
        what="Cloud API URL"
        testId="cloud-api-url"
      />
      {account.workspaces.length === 0 ? (
        <p>
          This account has no workspaces you can reach yet. Create a workspace and share it with this service account first (Workspaces → Sharing); then
          configure the environment with <code>prefect cloud login -k KEY --workspace {account.handle}/WORKSPACE_HANDLE</code>.
        </p>
      ) : (
        <>
          <div className="field">
            <label htmlFor={pickerId}>Workspace</label>
            <select id={pickerId} value={workspaceId} onChange={(e) => setWorkspaceId(e.target.value)}>
              {account.workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name} ({w.handle})
                </option>
              ))}
            </select>
            <p className="field-hint">The service account can use a workspace only once the workspace is shared with it.</p>
          </div>
          {workspace && (
            <>
              <CopyField
                label="Prefect CLI login"
                value={`prefect cloud login -k ${apiKey} --workspace ${account.handle}/${workspace.handle}`}
                copyLabel="Copy login command"
                what="Login command"
                multiline
                testId="login-command"
              />
              <CopyField
                label="Environment variables"
                value={`PREFECT_API_URL=${origin}/api/accounts/${account.id}/workspaces/${workspace.id}\nPREFECT_API_KEY=${apiKey}`}
                copyLabel="Copy environment variables"
                what="Environment variables"
                multiline
                testId="env-vars"
              />
            </>
          )}
        </>
      )}
    </section>
  );
}

interface SecretProps {
  /** What it is, as the Copy field's label ("SCIM token"). */
  label: string;
  /** The same in the warning: "Copy this token now." */
  noun: string;
  value: string;
  copyLabel: string;
  testId: string;
  valueTestId: string;
  onDone: () => void;
  /** What to do with it, after the warning. */
  children: ReactNode;
}

export function SecretReveal({ label, noun, value, copyLabel, testId, valueTestId, onDone, children }: SecretProps) {
  return (
    <div className="key-reveal" data-testid={testId}>
      <p className="warning" role="note">
        <strong>Copy this {noun} now.</strong> It cannot be shown again. {children}
      </p>
      <CopyField label={label} value={value} copyLabel={copyLabel} testId={valueTestId} />
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
