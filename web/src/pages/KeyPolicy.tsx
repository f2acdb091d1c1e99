// The account's key policy: limits on its service-account keys (Owners and Admins edit them; every
// member sees them), and the existing keys that break the policy, which are listed, not changed.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, type KeyPolicy, type KeyPolicyBreach } from '../api';
import { Checkbox, Field, FormError } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PageState } from '../components/PageState';
import { useStatus } from '../components/Status';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { formatDate, formatExpiration } from '../format';
import { useFormSubmit, useLoad } from '../hooks';

interface Draft {
  maxLifetimeDays: string;
  allowNeverExpire: boolean;
  maxGraceSeconds: string;
  unusedDays: string;
  /** leaked_key_action 'flag': a key a secret-scanning partner reports leaked keeps working. */
  flagLeaked: boolean;
}

const text = (n: number | null) => (n === null ? '' : String(n));
const toDraft = (p: KeyPolicy): Draft => ({
  maxLifetimeDays: text(p.max_key_lifetime_days),
  allowNeverExpire: p.allow_never_expire,
  maxGraceSeconds: text(p.max_rotation_grace_seconds),
  unusedDays: text(p.disable_keys_unused_days),
  flagLeaked: p.leaked_key_action === 'flag',
});

/** An empty field lifts the limit; otherwise a whole number in range. */
function limit(value: string, min: number, max: number): number | null | string {
  const v = value.trim();
  if (!v) return null;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) return `Enter a whole number from ${min} to ${max}, or leave it empty for no limit.`;
  return Number(v);
}

const RULE_TEXT: Record<KeyPolicyBreach['rules'][number], string> = {
  max_key_lifetime_days: 'Expires later than the longest lifetime allows',
  allow_never_expire: 'Never expires',
  disable_keys_unused_days: 'Unused: disabled at the next check',
};

export function KeyPolicyPage() {
  const { account, can } = useAccount();
  const status = useStatus();
  const a = account.account_id;
  const canEdit = can('update:account');
  const { data, error, reload } = useLoad(async () => {
    const [policy, breaches] = await Promise.all([api.keyPolicy(a), api.keyPolicyBreaches(a).catch(() => [] as KeyPolicyBreach[])]);
    return { policy, breaches };
  }, [a]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const { errors, setErrors, busy, send } = useFormSubmit<'lifetime' | 'grace' | 'unused'>();

  useEffect(() => {
    if (data) setDraft(toDraft(data.policy));
  }, [data]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    const lifetime = limit(draft.maxLifetimeDays, 1, 36_500);
    const grace = limit(draft.maxGraceSeconds, 0, 172_800);
    const unused = limit(draft.unusedDays, 1, 36_500);
    const errs = {
      lifetime: typeof lifetime === 'string' ? lifetime : null,
      grace: typeof grace === 'string' ? grace : null,
      unused: typeof unused === 'string' ? unused : null,
    };
    setErrors(errs);
    if (errs.lifetime || errs.grace || errs.unused) return;
    await send(
      async () => {
        await api.saveKeyPolicy(a, {
          max_key_lifetime_days: lifetime as number | null,
          allow_never_expire: draft.allowNeverExpire,
          max_rotation_grace_seconds: grace as number | null,
          disable_keys_unused_days: unused as number | null,
          leaked_key_action: draft.flagLeaked ? 'flag' : 'disable',
        });
        status.success('Key policy saved. New and rotated keys must keep it; existing keys that break it are listed below.');
        await reload();
      },
      (err) => (err instanceof ApiError && err.status === 403 ? { form: `Only account Owners and Admins can change the key policy. ${errorMessage(err)}` } : null),
    );
  };

  const set = (change: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...change } : d));
  /** The field of one limit: a whole number, or empty for none. */
  const limitField = (key: 'maxLifetimeDays' | 'maxGraceSeconds' | 'unusedDays', label: string, error: string | null | undefined, hint: string) => (
    <Field label={label} value={draft?.[key] ?? ''} onChange={(v) => set({ [key]: v })} error={error} hint={hint} inputMode="numeric" disabled={!canEdit} />
  );

  return (
    <section aria-labelledby="key-policy-heading">
      <PageHeader id="key-policy-heading" title="Key policy" />
      <p className="page-intro">
        Limits on this account&apos;s service-account keys. New and rotated keys must keep them; existing keys that break them are listed below and keep
        working until you rotate or remove them. A key unused for the set number of days is disabled (it expires), and the audit log records it.
      </p>
      <PageState ready={data !== undefined && draft !== null} error={error} onRetry={() => void reload()}>
        {draft && (
          <form className="stack" onSubmit={submit} noValidate aria-label="Key policy" data-testid="key-policy-form">
            {limitField('maxLifetimeDays', 'Longest key lifetime (days)', errors.lifetime, 'Empty: no limit.')}
            <Checkbox label="Allow keys that never expire" checked={draft.allowNeverExpire} disabled={!canEdit} onChange={(on) => set({ allowNeverExpire: on })} />
            {limitField('maxGraceSeconds', 'Longest rotation grace (seconds)', errors.grace, 'How long a rotated-out key may keep working, 0 to 172800. Empty: the built-in 48 hours.')}
            {limitField('unusedDays', 'Disable keys unused for (days)', errors.unused, 'Until last use is recorded, a key counts as used when it was issued. Empty: never.')}
            <Checkbox
              label="Only flag keys reported leaked (leave them working instead of disabling them at once)"
              checked={draft.flagLeaked}
              disabled={!canEdit}
              onChange={(on) => set({ flagLeaked: on })}
            />
            <FormError message={errors.form} />
            {canEdit ? (
              <div>
                <button type="submit" className="primary" disabled={busy}>
                  {busy ? 'Saving…' : 'Save policy'}
                </button>
              </div>
            ) : (
              <p className="muted">Only account Owners and Admins can change the key policy.</p>
            )}
          </form>
        )}
        <h2>Keys that break the policy</h2>
        <DataTable
          label="Keys that break the key policy"
          testId="key-policy-breaches"
          columns={['Service account', 'Key', 'Expiration', 'Created', 'Breaks']}
          rows={data?.breaches ?? []}
          empty="No existing key breaks this policy."
          row={(b) => (
            <tr key={b.api_key_id} data-testid="key-policy-breach" data-name={b.service_account_name}>
              <th scope="row">{b.service_account_name}</th>
              <td>
                <code>{b.masked_key}</code>
                {!b.is_active && <span className="muted small"> old key in rotation grace</span>}
              </td>
              <td>{formatExpiration(b.expiration)}</td>
              <td>{formatDate(b.created)}</td>
              <td>{b.rules.map((r) => RULE_TEXT[r]).join('; ')}</td>
            </tr>
          )}
        />
      </PageState>
    </section>
  );
}
