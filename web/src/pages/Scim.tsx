// The account's SCIM provisioning (Owners and Admins): the base URL to give the identity provider,
// and its SCIM tokens: created (shown once), listed masked with their last use, revoked at once.
import { useState, type FormEvent } from 'react';
import { api, type ScimToken } from '../api';
import { CopyField } from '../components/CopyField';
import { Field, FormError } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PageState } from '../components/PageState';
import { useStatus } from '../components/Status';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { formatDateTime } from '../format';
import { useChange, useLoad } from '../hooks';
import { timeAgo } from '../last-use';

export function ScimPage() {
  const { account, can } = useAccount();
  const status = useStatus();
  const a = account.account_id;
  const allowed = can('read:sso');
  const editable = can('administrate:sso');
  const { data, error, reload } = useLoad(async () => (allowed ? api.scimTokens(a) : null), [a, allowed]);
  const [name, setName] = useState('');
  const { busy, problem, setProblem, change } = useChange(reload, (message) => status.success(message));
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);

  if (!allowed) {
    return (
      <div>
        <PageHeader id="scim-title" title="SCIM provisioning" />
        <p>Only account Owners and Admins see and manage the account's SCIM tokens.</p>
      </div>
    );
  }

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setProblem('Name the token after the identity provider that will hold it, such as Okta or Entra ID.');
    let issued: { name: string; token: string } | null = null;
    const ok = await change(async () => {
      const answer = await api.createScimToken(a, name.trim());
      issued = { name: answer.name, token: answer.token };
    }, `Created the SCIM token ${name.trim()}.`);
    if (ok) {
      setCreated(issued);
      setName('');
    }
  };

  const revoke = (token: ScimToken) =>
    void change(() => api.revokeScimToken(a, token.id), `Revoked the SCIM token ${token.name}: its identity provider is refused from now on.`);

  const tokens = data?.tokens ?? [];
  return (
    <div>
      <PageHeader id="scim-title" title="SCIM provisioning" />
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        <p>
          Your identity provider (Okta, Microsoft Entra ID, OneLogin…) creates, updates and deprovisions this account's people and teams over
          SCIM 2.0. People it provisions join as Members and sign in with SSO; people it deactivates leave the account at once, and their API
          keys and sessions end with it.
        </p>
        {data && <CopyField label="SCIM base URL" value={data.base_url} copyLabel="Copy SCIM base URL" what="SCIM base URL" testId="scim-base-url" />}
        {created && (
          <div className="key-reveal" data-testid="scim-token-created">
            <p className="warning" role="note">
              <strong>Copy this token now.</strong> It cannot be shown again. Give it to the identity provider as the bearer token ("Secret Token"
              in Entra ID, "Authorization" in Okta) for {created.name}.
            </p>
            <CopyField label="SCIM token" value={created.token} copyLabel="Copy SCIM token" what="SCIM token" testId="scim-token-value" />
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        )}
        <FormError message={problem} />
        <DataTable<ScimToken>
          label="SCIM tokens"
          testId="scim-tokens"
          columns={['Name', 'Token', 'Created', 'Last used', { hidden: 'Actions' }]}
          rows={tokens}
          empty="No SCIM tokens yet."
          row={(token) => (
            <tr key={token.id} data-testid="scim-token-row" data-name={token.name}>
              <td>{token.name}</td>
              <td>
                <code>{token.masked_token}</code>
              </td>
              <td>
                {formatDateTime(token.created)} <span className="muted">by {token.created_by}</span>
              </td>
              <td data-testid="scim-token-last-used">
                {token.last_used_at ? `${timeAgo(token.last_used_at)}${token.last_used_from ? ` from ${token.last_used_from}` : ''}` : 'Never'}
              </td>
              <td>
                {editable && (
                  <button type="button" className="danger-text" disabled={busy} aria-label={`Revoke ${token.name}`} onClick={() => revoke(token)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          )}
        />
        {editable && (
          <form onSubmit={(e) => void create(e)} aria-labelledby="scim-create">
            <h2 id="scim-create">Create a SCIM token</h2>
            <Field label="Name" value={name} onChange={setName} placeholder="Okta" hint="Which identity provider holds it. The token is shown once." />
            <button type="submit" className="primary" disabled={busy}>
              Create token
            </button>
          </form>
        )}
      </PageState>
    </div>
  );
}
