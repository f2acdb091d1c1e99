// A workspace's Prefect server (its gateway's upstream): where the workspace's Prefect requests go,
// its credential (write-only: the page only learns whether one is stored), what a save warns about,
// and Check connection, which asks the server whether it answers with that credential.
import { useState, type FormEvent } from 'react';
import { api, errorMessage, type GatewaySetting, type Workspace } from '../api';
import { useLoad } from '../hooks';
import { Dialog } from './Dialog';
import { Field, FormError } from './Field';
import { WhenLoaded } from './PageState';
import { useStatus } from './Status';

interface Loaded {
  canSee: boolean;
  canManage: boolean;
  setting: GatewaySetting | null;
}

export function GatewayDialog({ accountId, workspace, onClose }: { accountId: string; workspace: Workspace; onClose: () => void }) {
  const loaded = useLoad<Loaded>(async () => {
    const scopes = new Set(await api.myWorkspaceScopes(workspace.id).catch(() => [] as string[]));
    const canSee = scopes.has('see_workspace_settings');
    return { canSee, canManage: scopes.has('manage_workspace_settings'), setting: canSee ? await api.gateway(accountId, workspace.id) : null };
  }, [accountId, workspace.id]);

  return (
    <Dialog title={`Prefect server of ${workspace.name}`} onClose={onClose} testId="gateway-dialog">
      <WhenLoaded loaded={loaded}>
        {({ canSee, canManage, setting }) =>
          canSee ? (
            <GatewayForm accountId={accountId} workspace={workspace} initial={setting!} canManage={canManage} />
          ) : (
            <p>Only those who may see this workspace&apos;s settings (a Developer or Owner of it) can see where its Prefect requests go.</p>
          )
        }
      </WhenLoaded>
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

function GatewayForm({ accountId, workspace, initial, canManage }: { accountId: string; workspace: Workspace; initial: GatewaySetting; canManage: boolean }) {
  const status = useStatus();
  const [setting, setSetting] = useState(initial);
  const [url, setUrl] = useState(initial.upstream_url ?? '');
  const [authString, setAuthString] = useState('');
  const [removeAuth, setRemoveAuth] = useState(false);
  const [urlError, setUrlError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [warnings, setWarnings] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [checking, setChecking] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = url.trim();
    setUrlError(/^https?:\/\/\S+$/i.test(trimmed) ? null : 'Enter the address of the Prefect API, starting with http:// or https://, e.g. http://prefect:4200/api.');
    setFormError(null);
    if (!/^https?:\/\/\S+$/i.test(trimmed)) return;
    setBusy(true);
    try {
      const body: { upstream_url: string; upstream_auth_string?: string | null } = { upstream_url: trimmed };
      if (removeAuth) body.upstream_auth_string = null;
      else if (authString) body.upstream_auth_string = authString;
      const saved = await api.saveGateway(accountId, workspace.id, body);
      setSetting(saved);
      setUrl(saved.upstream_url ?? '');
      setAuthString('');
      setRemoveAuth(false);
      setWarnings(saved.warnings);
      setResult(null);
      status.success(`Workspace ${workspace.name} now forwards its Prefect requests to ${saved.upstream_url}.`);
    } catch (err) {
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const check = async () => {
    setChecking(true);
    setResult(null);
    try {
      const outcome = await api.checkGateway(accountId, workspace.id);
      setResult({ ok: outcome.reachable, text: `${outcome.reachable ? 'Connected' : 'Not connected'}: ${outcome.detail}` });
    } catch (err) {
      setResult({ ok: false, text: `Could not check: ${errorMessage(err)}` });
    } finally {
      setChecking(false);
    }
  };

  return (
    <div className="stack">
      {setting.upstream_url ? (
        <p>
          Prefect requests to this workspace go to <code data-testid="gateway-upstream">{setting.upstream_url}</code>
          {setting.has_upstream_auth_string ? ', with the stored auth string.' : ', with no auth string.'}
        </p>
      ) : (
        <p>No Prefect server yet: the workspace&apos;s Prefect requests are answered 404 until one is set.</p>
      )}
      {warnings.length > 0 && (
        <div className="warning" role="note" data-testid="gateway-warnings">
          {warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </div>
      )}
      {setting.upstream_url && (
        <div className="stack">
          <div>
            <button type="button" onClick={() => void check()} disabled={checking}>
              {checking ? 'Checking…' : 'Check connection'}
            </button>
          </div>
          <div role="status" aria-live="polite" data-testid="gateway-check-result" className={result ? (result.ok ? 'notice' : 'page-error') : undefined}>
            {result?.text ?? ''}
          </div>
        </div>
      )}
      {canManage && (
        <form className="stack" onSubmit={save} noValidate aria-label="Prefect server">
          <Field
            label="Prefect API URL"
            value={url}
            onChange={setUrl}
            error={urlError}
            hint="Where Gatehouse's machine reaches the Prefect server's API: usually ending with /api, e.g. http://prefect:4200/api."
            autoComplete="off"
            spellCheck={false}
          />
          <Field
            label="Auth string"
            type="password"
            value={authString}
            onChange={setAuthString}
            disabled={removeAuth}
            hint={
              setting.has_upstream_auth_string
                ? 'Leave empty to keep the stored one. It is never shown again.'
                : "Only if the Prefect server asks for one: its PREFECT_SERVER_API_AUTH_STRING (user:password)."
            }
            autoComplete="new-password"
          />
          {setting.has_upstream_auth_string && (
            <label className="checkbox">
              <input type="checkbox" checked={removeAuth} onChange={(e) => setRemoveAuth(e.target.checked)} /> Remove the stored auth string
            </label>
          )}
          <FormError message={formError} />
          <div>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
