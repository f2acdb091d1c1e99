// A service account's keyless workload identity (docs/workload-identity.md): its trust rules (which
// OIDC tokens may be exchanged for a short-lived key of it) and the exchanged keys that still work.
// Anyone who may see service accounts (read:bot) sees them; update:bot adds, changes and deletes rules.
import { useState, type FormEvent } from 'react';
import { api, type ExchangedKey, type ServiceAccount, type TrustRule } from '../api';
import { formatDateTime } from '../format';
import { useAttempt, useConfirm, useLoad } from '../hooks';
import { lastUseText } from '../last-use';
import { ConfirmDialog, Dialog, FormActions } from './Dialog';
import { Field, FormError } from './Field';
import { Menu } from './Menu';
import { WhenLoaded } from './PageState';
import { useStatus } from './Status';
import { CodeCell, DataTable } from './Table';

interface Preset {
  id: string;
  label: string;
  issuer: string;
  /** The subject with placeholders the person replaces. */
  subject: string;
  hint: string;
}

/** What each platform puts in its tokens; the placeholders are in capitals. */
export const PRESETS: Preset[] = [
  {
    id: 'github',
    label: 'GitHub Actions',
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'repo:OWNER/REPO:ref:refs/heads/BRANCH',
    hint: 'Replace OWNER/REPO and BRANCH. The workflow needs "permissions: id-token: write" and asks for a token with this audience.',
  },
  {
    id: 'kubernetes',
    label: 'Kubernetes service account',
    issuer: '',
    subject: 'system:serviceaccount:NAMESPACE:NAME',
    hint: "The issuer is your cluster's --service-account-issuer; Gatehouse must reach its discovery document and JWKS. Replace NAMESPACE and NAME.",
  },
  {
    id: 'gitlab',
    label: 'GitLab CI',
    issuer: 'https://gitlab.com',
    subject: 'project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH',
    hint: 'Replace GROUP/PROJECT and BRANCH (a self-managed GitLab is its own issuer). The job asks for the token with id_tokens: and this aud.',
  },
  { id: 'generic', label: 'Another OIDC issuer', issuer: '', subject: '', hint: "The issuer's iss, exactly; it must publish /.well-known/openid-configuration over https." },
];

const PLACEHOLDER = /\b(OWNER|REPO|BRANCH|NAMESPACE|NAME|GROUP|PROJECT)\b/;

interface Form {
  issuer: string;
  audience: string;
  subject: string;
  claims: string;
  lifetime: string;
  description: string;
}

const emptyForm = (): Form => ({ issuer: '', audience: 'gatehouse', subject: '', claims: '', lifetime: '900', description: '' });

const formOf = (rule: TrustRule): Form => ({
  issuer: rule.issuer,
  audience: rule.audience,
  subject: rule.subject_pattern,
  claims: Object.keys(rule.required_claims).length ? JSON.stringify(rule.required_claims) : '',
  lifetime: String(rule.key_lifetime_seconds),
  description: rule.description ?? '',
});

/** The request body of a form, or what to fix first. */
function bodyOf(form: Form): { body: Omit<TrustRule, 'id' | 'created' | 'updated' | 'account_id' | 'bot_id'> } | { problem: string } {
  if (!form.issuer.trim()) return { problem: "Enter the issuer: the tokens' iss, such as https://token.actions.githubusercontent.com." };
  if (!form.audience.trim()) return { problem: 'Enter the audience the tokens are issued for, such as gatehouse.' };
  const subject = form.subject.trim();
  if (!subject) return { problem: 'Enter the subject pattern: the sub the tokens carry, with * for any run of characters.' };
  const placeholder = PLACEHOLDER.exec(subject);
  if (placeholder) return { problem: `Replace ${placeholder[1]} in the subject pattern with your own value.` };
  let claims: Record<string, string | number | boolean> = {};
  if (form.claims.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(form.claims);
    } catch {
      return { problem: 'Required claims must be a JSON object, such as {"repository_owner": "acme"}.' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: 'Required claims must be a JSON object, such as {"repository_owner": "acme"}.' };
    claims = parsed as typeof claims;
  }
  const lifetime = Number(form.lifetime);
  if (!Number.isInteger(lifetime) || lifetime < 60 || lifetime > 3600) return { problem: 'The key lifetime is a whole number of seconds from 60 to 3600.' };
  return {
    body: { issuer: form.issuer.trim(), audience: form.audience.trim(), subject_pattern: subject, required_claims: claims, key_lifetime_seconds: lifetime, description: form.description.trim() || null },
  };
}

const claimsText = (claims: TrustRule['required_claims']) =>
  Object.entries(claims)
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join(', ');

export function TrustRulesDialog({ accountId, serviceAccount, canEdit, onClose }: { accountId: string; serviceAccount: ServiceAccount; canEdit: boolean; onClose: () => void }) {
  const status = useStatus();
  const sa = serviceAccount;
  const loaded = useLoad(
    async () => {
      const [rules, keys] = await Promise.all([api.trustRules(accountId, sa.id), api.exchangedKeys(accountId, sa.id)]);
      return { rules, keys };
    },
    [accountId, sa.id],
  );
  const { data, reload } = loaded;
  const [editing, setEditing] = useState<TrustRule | 'new' | null>(null);
  const removal = useConfirm<TrustRule>(reload);

  const remove = (rule: TrustRule) =>
    removal.run(() => api.removeTrustRule(accountId, sa.id, rule.id), `Trust rule for ${rule.subject_pattern} deleted. Keys exchanged under it no longer work.`);
  const keysUnder = (rule: TrustRule) => (data?.keys ?? []).filter((k) => k.trust_rule_id === rule.id).length;

  return (
    <Dialog title={`Trust rules of ${sa.name}`} onClose={onClose} testId="trust-rules-dialog" wide>
      <p>
        A workload that holds an OIDC token from a trusted issuer (a GitHub Actions job, a Kubernetes pod, a GitLab CI job) exchanges it at{' '}
        <code>POST /api/oauth/token</code> for a short-lived key of this service account, so it needs no stored key. Its service account id:{' '}
        <code data-testid="trust-rules-bot-id">{sa.id}</code>.
      </p>
      <WhenLoaded loaded={loaded}>
        {({ rules, keys }) => (
          <>
            <h3>Trust rules</h3>
            <DataTable<TrustRule>
              label="Trust rules"
              testId="trust-rules"
              columns={[canEdit && { hidden: 'Actions', className: 'menu-col' }, 'Issuer and audience', 'Subject pattern', 'Claims', 'Lifetime']}
              rows={rules}
              empty={`No trust rules: no token can be exchanged for a key of ${sa.name}.${canEdit ? ' Add one below.' : ''}`}
              row={(rule) => (
                <tr key={rule.id} data-testid="trust-rule-row" data-subject={rule.subject_pattern}>
                  {canEdit && (
                    <td className="menu-col">
                      <Menu
                        label={`Actions for the trust rule for ${rule.subject_pattern}`}
                        items={[
                          { label: 'Edit', onSelect: () => setEditing(rule) },
                          { label: 'Delete', danger: true, onSelect: () => removal.open(rule) },
                        ]}
                      />
                    </td>
                  )}
                  <td>
                    <code data-testid="trust-rule-issuer">{rule.issuer}</code>
                    <div className="small muted">
                      audience <code data-testid="trust-rule-audience">{rule.audience}</code>
                    </div>
                  </td>
                  <td>
                    <code>{rule.subject_pattern}</code>
                    {rule.description && (
                      <div className="small muted" data-testid="trust-rule-description">
                        {rule.description}
                      </div>
                    )}
                  </td>
                  <td className="small">{Object.keys(rule.required_claims).length ? <code>{claimsText(rule.required_claims)}</code> : <span className="muted">None</span>}</td>
                  <td>{rule.key_lifetime_seconds} s</td>
                </tr>
              )}
            />
            {canEdit && editing === null && (
              <p>
                <button type="button" className="primary" onClick={() => setEditing('new')}>
                  Add trust rule
                </button>
              </p>
            )}
            {canEdit && editing !== null && (
              <RuleForm
                key={editing === 'new' ? 'new' : editing.id}
                accountId={accountId}
                serviceAccount={sa}
                rule={editing === 'new' ? null : editing}
                onDone={(message) => {
                  setEditing(null);
                  if (message) {
                    status.success(message);
                    void reload();
                  }
                }}
              />
            )}

            <h3>Exchanged keys</h3>
            <p className="small muted">
              Keys that still work, each from one exchanged token. They end when their lifetime does, or at once when their rule is deleted or narrowed.{' '}
              <button type="button" onClick={() => void reload()}>
                Refresh
              </button>
            </p>
            <DataTable<ExchangedKey>
              label="Exchanged keys"
              testId="exchanged-keys"
              columns={['Subject', 'Key', 'Issued', 'Expires', 'Last used']}
              rows={keys}
              empty="No exchanged key works now."
              row={(key) => (
                <tr key={key.id} data-testid="exchanged-key-row" data-subject={key.subject}>
                  <CodeCell>{key.subject}</CodeCell>
                  <CodeCell>{key.masked_key}</CodeCell>
                  <td>{formatDateTime(key.created)}</td>
                  <td>{formatDateTime(key.expiration)}</td>
                  <td className="small">{lastUseText(key)}</td>
                </tr>
              )}
            />
          </>
        )}
      </WhenLoaded>
      {removal.target && (
        <ConfirmDialog
          {...removal.dialog}
          title="Delete this trust rule?"
          confirmLabel="Delete trust rule"
          onConfirm={() => remove(removal.target!)}
          testId="delete-trust-rule-dialog"
        >
          <p>
            Tokens with subject <code>{removal.target.subject_pattern}</code> from <code>{removal.target.issuer}</code> can no longer be exchanged for keys of{' '}
            {sa.name}.
          </p>
          <p>
            <strong>Keys already exchanged under it stop working at once</strong>
            {keysUnder(removal.target) ? ` (${keysUnder(removal.target)} now in use).` : '.'} A worker started with one is refused on its next request.
          </p>
        </ConfirmDialog>
      )}
    </Dialog>
  );
}

function RuleForm({ accountId, serviceAccount, rule, onDone }: { accountId: string; serviceAccount: ServiceAccount; rule: TrustRule | null; onDone: (message: string | null) => void }) {
  const [form, setForm] = useState<Form>(rule ? formOf(rule) : emptyForm());
  const [preset, setPreset] = useState<Preset | null>(null);
  const { busy, problem, setProblem, attempt } = useAttempt();
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }));

  const choose = (id: string) => {
    const chosen = PRESETS.find((p) => p.id === id) ?? null;
    setPreset(chosen);
    if (chosen) setForm((f) => ({ ...f, issuer: chosen.issuer, subject: chosen.subject }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = bodyOf(form);
    if ('problem' in checked) return setProblem(checked.problem);
    await attempt(async () => {
      if (rule) {
        await api.updateTrustRule(accountId, serviceAccount.id, rule.id, checked.body);
        onDone(`Trust rule for ${checked.body.subject_pattern} saved.`);
      } else {
        await api.addTrustRule(accountId, serviceAccount.id, checked.body);
        onDone(`Trust rule added: tokens of ${checked.body.issuer} with subject ${checked.body.subject_pattern} can be exchanged for keys of ${serviceAccount.name}.`);
      }
    });
  };

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="trust-rule-form-title" data-testid="trust-rule-form">
      <h3 id="trust-rule-form-title">{rule ? 'Edit trust rule' : 'Add a trust rule'}</h3>
      {!rule && (
        <div className="field">
          <label htmlFor="trust-rule-preset">Where the token comes from</label>
          <select id="trust-rule-preset" value={preset?.id ?? ''} onChange={(e) => choose(e.target.value)}>
            <option value="">Choose…</option>
            {PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
          {preset && <p className="field-hint">{preset.hint}</p>}
        </div>
      )}
      {rule && (
        <p className="small">Changing the issuer, audience, subject pattern or required claims stops the keys exchanged under this rule at once.</p>
      )}
      <Field label="Issuer" value={form.issuer} onChange={set('issuer')} placeholder="https://token.actions.githubusercontent.com" autoComplete="off" hint="The tokens' iss, exactly." />
      <Field label="Audience" value={form.audience} onChange={set('audience')} autoComplete="off" hint="A value the tokens' aud must hold; the workload asks its issuer for a token with it." />
      <Field label="Subject pattern" value={form.subject} onChange={set('subject')} autoComplete="off" hint="The tokens' sub: exact, or * for any run of characters." />
      <Field label="Required claims" value={form.claims} onChange={set('claims')} autoComplete="off" placeholder='{"repository_owner": "acme"}' hint="Optional: a JSON object of other claims that must match exactly." />
      <Field label="Key lifetime (seconds)" value={form.lifetime} onChange={set('lifetime')} inputMode="numeric" hint="How long an exchanged key works: 60 to 3600." />
      <Field label="Description" value={form.description} onChange={set('description')} autoComplete="off" maxLength={255} />
      <FormError message={problem} />
      <FormActions onCancel={() => onDone(null)} busy={busy} busyLabel="Saving…" label={rule ? 'Save trust rule' : 'Add trust rule'} />
    </form>
  );
}
