// The account's SCIM provisioning (Owners and Admins): the base URL to give the identity provider,
// and its SCIM tokens: created (shown once), listed masked with their last use, revoked at once.
import { useState } from 'react';
import { api, type ScimToken } from '../api';
import { ActionButton } from '../components/ActionButton';
import { CopyField } from '../components/CopyField';
import { Field, FormError } from '../components/Field';
import { SecretReveal } from '../components/KeyReveal';
import { PageForm } from '../components/PageForm';
import { LoadedPage } from '../components/PageState';
import { CodeCell, DataTable } from '../components/Table';
import { formatDateTime } from '../format';
import { useAccountPage } from '../hooks';
import { timeAgo } from '../last-use';

export function ScimPage() {
  const { a, can, allowed, loaded, busy, problem, setProblem, change } = useAccountPage('read:sso', api.scimTokens);
  const editable = can('administrate:sso');
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);

  const create = async () => {
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

  return (
    <LoadedPage id="scim-title" title="SCIM provisioning" denied={!allowed && "Only account Owners and Admins see and manage the account's SCIM tokens."} loaded={loaded}>
      {(data) => (
        <>
          <p>
            Your identity provider (Okta, Microsoft Entra ID, OneLogin…) creates, updates and deprovisions this account's people and teams over
            SCIM 2.0. People it provisions join as Members and sign in with SSO; people it deactivates leave the account at once, and their API
            keys and sessions end with it.
          </p>
          <CopyField label="SCIM base URL" value={data.base_url} copyLabel="Copy SCIM base URL" what="SCIM base URL" testId="scim-base-url" />
          {created && (
            <SecretReveal
              label="SCIM token"
              noun="token"
              value={created.token}
              copyLabel="Copy SCIM token"
              testId="scim-token-created"
              valueTestId="scim-token-value"
              onDone={() => setCreated(null)}
            >
              Give it to the identity provider as the bearer token ("Secret Token" in Entra ID, "Authorization" in Okta) for {created.name}.
            </SecretReveal>
          )}
          <FormError message={problem} />
          <DataTable<ScimToken>
            label="SCIM tokens"
            testId="scim-tokens"
            columns={['Name', 'Token', 'Created', 'Last used', { hidden: 'Actions' }]}
            rows={data.tokens}
            empty="No SCIM tokens yet."
            row={(token) => (
              <tr key={token.id} data-testid="scim-token-row" data-name={token.name}>
                <td>{token.name}</td>
                <CodeCell>{token.masked_token}</CodeCell>
                <td>
                  {formatDateTime(token.created)} <span className="muted">by {token.created_by}</span>
                </td>
                <td data-testid="scim-token-last-used">
                  {token.last_used_at ? `${timeAgo(token.last_used_at)}${token.last_used_from ? ` from ${token.last_used_from}` : ''}` : 'Never'}
                </td>
                <td>
                  {editable && (
                    <ActionButton danger label={`Revoke ${token.name}`} disabled={busy} onClick={() => revoke(token)}>
                      Revoke
                    </ActionButton>
                  )}
                </td>
              </tr>
            )}
          />
          {editable && (
            <PageForm id="scim-create" title="Create a SCIM token" onSubmit={create} busy={busy} submitLabel="Create token">
              <Field label="Name" value={name} onChange={setName} placeholder="Okta" hint="Which identity provider holds it. The token is shown once." />
            </PageForm>
          )}
        </>
      )}
    </LoadedPage>
  );
}
