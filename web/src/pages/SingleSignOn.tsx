// Single sign-on (Owners and Admins): the account's OpenID Connect providers (add, edit, check,
// delete; the client secret is write-only), its email domains (only verified ones let people join
// by SSO), the role people get when they join that way, and whether passwords are turned off.
import { useState } from 'react';
import { api, type AccountDomain, type SsoProvider } from '../api';
import { ActionButton, EnableButton } from '../components/ActionButton';
import { Field, FormError } from '../components/Field';
import { PageForm } from '../components/PageForm';
import { LoadedPage } from '../components/PageState';
import { RoleSelect } from '../components/RoleSelect';
import { CodeCell, DataTable } from '../components/Table';
import { useAccountPage } from '../hooks';

const OWNER_ROLE_NAME = 'Owner';

async function load(accountId: string) {
  const [providers, domains, settings, roles] = await Promise.all([api.ssoProviders(accountId), api.domains(accountId), api.ssoSettings(accountId), api.accountRoles(accountId)]);
  return { providers, domains, settings, roles: roles.filter((r) => r.name !== OWNER_ROLE_NAME) };
}

const emptyForm = { display_name: '', issuer: '', client_id: '', client_secret: '' };

export function SingleSignOnPage() {
  const { a, can, allowed, loaded, busy, problem, setProblem, change } = useAccountPage('read:sso', load);
  const editable = can('administrate:sso');
  const [form, setForm] = useState(emptyForm);
  const [editing, setEditing] = useState<SsoProvider | null>(null);
  const [domain, setDomain] = useState('');
  const [checks, setChecks] = useState<Record<string, string>>({});

  const field = (name: keyof typeof emptyForm) => (value: string) => setForm((f) => ({ ...f, [name]: value }));

  const saveProvider = async () => {
    if (!form.display_name.trim() || !form.issuer.trim() || !form.client_id.trim()) return setProblem('Enter a name, the issuer URL and the client id.');
    const secret = form.client_secret ? { client_secret: form.client_secret } : {};
    const body = { display_name: form.display_name.trim(), issuer: form.issuer.trim(), client_id: form.client_id.trim(), ...secret };
    const ok = editing
      ? await change(() => api.updateSsoProvider(a, editing.id, body), `Saved ${body.display_name}.`)
      : await change(() => api.createSsoProvider(a, body), `Added ${body.display_name}. Check it, then verify a domain.`);
    if (ok) {
      setForm(emptyForm);
      setEditing(null);
    }
  };

  const check = async (p: SsoProvider) => {
    try {
      const result = await api.checkSsoProvider(a, p.id);
      setChecks((c) => ({ ...c, [p.id]: result.ok ? `OK: ${result.detail}` : `Problem: ${result.detail}` }));
    } catch (err) {
      setProblem(String(err));
    }
  };

  const domains = loaded.data?.domains ?? [];
  const addDomain = async () => {
    const name = domain.trim().toLowerCase();
    if (!name) return setProblem('Enter a domain, such as example.com.');
    if (await change(() => api.setDomains(a, [...domains.map((d) => d.name), name]), `Added ${name}. It lets no one join until it is verified.`)) setDomain('');
  };

  return (
    <LoadedPage id="sso-title" title="Single sign-on" denied={!allowed && 'Only account Owners and Admins see and change single sign-on.'} loaded={loaded}>
      {(data) => (
        <>
          <p>
            People sign in through the account's OpenID Connect providers. Someone who is not yet a member joins with the default role below
            when the provider says their email is verified and its domain is one of the account's verified domains. See docs/single-sign-on.md.
          </p>
          <FormError message={problem} />
          <section aria-labelledby="sso-providers">
            <h2 id="sso-providers">Identity providers</h2>
            <DataTable
              label="Identity providers"
              testId="sso-providers"
              columns={['Name', 'Issuer', 'Client id', 'Secret', 'Enabled', { hidden: 'Actions' }]}
              rows={data.providers}
              empty="No identity provider yet."
              row={(p) => (
                <tr key={p.id} data-testid="sso-provider-row" data-name={p.display_name}>
                  <td>{p.display_name}</td>
                  <CodeCell>{p.issuer}</CodeCell>
                  <CodeCell>{p.client_id}</CodeCell>
                  <td>{p.has_client_secret ? 'Set' : 'None (public client)'}</td>
                  <td>{p.enabled ? 'Yes' : 'No'}</td>
                  <td>
                    <button type="button" aria-label={`Check ${p.display_name}`} onClick={() => void check(p)}>
                      Check
                    </button>{' '}
                    <a className="button" href={`/api/auth/sso/${p.id}/start?link=1&return_to=/single-sign-on`} aria-label={`Link my sign-in at ${p.display_name}`}>
                      Link
                    </a>{' '}
                    {editable && (
                      <>
                        <ActionButton
                          label={`Edit ${p.display_name}`}
                          disabled={busy}
                          onClick={() => {
                            setEditing(p);
                            setForm({ display_name: p.display_name, issuer: p.issuer, client_id: p.client_id, client_secret: '' });
                          }}
                        >
                          Edit
                        </ActionButton>{' '}
                        <EnableButton name={p.display_name} enabled={p.enabled} busy={busy} change={change} toggle={() => api.updateSsoProvider(a, p.id, { enabled: !p.enabled })} />{' '}
                        <ActionButton danger label={`Delete ${p.display_name}`} disabled={busy} onClick={() => void change(() => api.removeSsoProvider(a, p.id), `Deleted ${p.display_name}.`)}>
                          Delete
                        </ActionButton>
                      </>
                    )}
                    {checks[p.id] && (
                      <p className="field-hint" data-testid="sso-check" role="status">
                        {checks[p.id]}
                      </p>
                    )}
                  </td>
                </tr>
              )}
            />
            {editable && (
              <PageForm
                id="sso-provider-form"
                title={editing ? `Edit ${editing.display_name}` : 'Add a provider'}
                level={3}
                onSubmit={saveProvider}
                busy={busy}
                submitLabel={editing ? 'Save' : 'Add provider'}
                onCancel={
                  editing
                    ? () => {
                        setEditing(null);
                        setForm(emptyForm);
                      }
                    : undefined
                }
              >
                <Field label="Name on the sign-in button" value={form.display_name} onChange={field('display_name')} placeholder="Acme Okta" />
                <Field label="Issuer URL" value={form.issuer} onChange={field('issuer')} placeholder="https://idp.example.com" hint="Exactly as the provider's id tokens name it (iss)." />
                <Field label="Client id" value={form.client_id} onChange={field('client_id')} />
                <Field
                  label="Client secret"
                  type="password"
                  autoComplete="off"
                  value={form.client_secret}
                  onChange={field('client_secret')}
                  hint={editing ? 'Leave empty to keep the current secret. It is never shown again.' : 'Stored sealed; never shown again. Empty for a public client.'}
                />
                <p className="field-hint">
                  Register this redirect URI at the provider: <code>{`${window.location.origin}/api/auth/sso/callback`}</code>
                </p>
              </PageForm>
            )}
          </section>

          <section aria-labelledby="sso-domains">
            <h2 id="sso-domains">Domains</h2>
            <DataTable
              label="Domains"
              testId="sso-domains"
              columns={['Domain', 'Verified', { hidden: 'Actions' }]}
              rows={domains}
              empty="No domain: only invited people can sign in by SSO."
              row={(d: AccountDomain) => (
                <tr key={d.id} data-testid="sso-domain-row" data-name={d.name}>
                  <CodeCell>{d.name}</CodeCell>
                  <td>{d.verified ? `Yes (${d.verified_by === 'sign_in' ? 'proved by a sign-in' : 'by an Owner or Admin'})` : 'No'}</td>
                  <td>
                    {editable && !d.verified && (
                      <ActionButton label={`Verify ${d.name}`} disabled={busy} onClick={() => void change(() => api.verifyDomain(a, d.id), `${d.name} is verified.`)}>
                        Verify
                      </ActionButton>
                    )}{' '}
                    {editable && (
                      <ActionButton
                        danger
                        label={`Remove ${d.name}`}
                        disabled={busy}
                        onClick={() => void change(() => api.setDomains(a, domains.filter((x) => x.id !== d.id).map((x) => x.name)), `Removed ${d.name}.`)}
                      >
                        Remove
                      </ActionButton>
                    )}
                  </td>
                </tr>
              )}
            />
            {editable && (
              <PageForm id="sso-domain-add" title="Add a domain" level={3} onSubmit={addDomain} busy={busy} submitLabel="Add domain">
                <Field label="Domain" value={domain} onChange={setDomain} placeholder="example.com" hint="Verify only a domain whose mailboxes your organisation controls, never a public mail service." />
              </PageForm>
            )}
          </section>

          <section aria-labelledby="sso-settings">
            <h2 id="sso-settings">Settings</h2>
            <div className="field">
              <label htmlFor="sso-default-role">Role of people who join by SSO</label>
              <RoleSelect
                id="sso-default-role"
                roles={data.roles}
                value={data.settings.default_account_role_id}
                onChange={(id) => void change(() => api.saveSsoSettings(a, { default_account_role_id: id }), 'Saved the role of people who join by SSO.')}
              />
            </div>
            <p data-testid="sso-passwords">
              Passwords are <strong>{data.settings.passwords_disabled ? 'turned off' : 'allowed'}</strong> for this account's members
              {data.settings.passwords_disabled ? ' (Owners may still sign in with one, the break-glass).' : '.'}
            </p>
            {editable && (
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void change(
                    () => api.saveSsoSettings(a, { passwords_disabled: !data.settings.passwords_disabled }),
                    data.settings.passwords_disabled ? 'Passwords are allowed again.' : 'Passwords are turned off: members sign in through the identity provider.',
                  )
                }
              >
                {data.settings.passwords_disabled ? 'Allow passwords' : 'Require single sign-on'}
              </button>
            )}
          </section>
        </>
      )}
    </LoadedPage>
  );
}
