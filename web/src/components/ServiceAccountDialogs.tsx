// Create a service account, and rotate its key: each ends by showing the new key once.
import { useState, type FormEvent } from 'react';
import { api, ApiError, type KeyPolicy, type ServiceAccount, type ServiceAccountWithKey, type Workspace } from '../api';
import { formatDateTime } from '../format';
import { useFormSubmit, useLoad } from '../hooks';
import { timeAgo } from '../last-use';
import { Dialog, FormActions, DoneAction } from './Dialog';
import { emptyExpiration, ExpirationField, expirationLimits, toExpiration, validateExpiration, type ExpirationValue } from './ExpirationField';
import { Checkbox, Field, FormError } from './Field';
import { KeyReveal } from './KeyReveal';
import { useStatus } from './Status';

export interface AccountInfo {
  id: string;
  handle: string;
  workspaces: Workspace[];
  /** The account's key policy: the dialogs show its limits up front. */
  keyPolicy?: KeyPolicy | null;
}

function expirationError(err: unknown): string | null {
  if (err instanceof ApiError && err.code === 'KEY_POLICY_VIOLATION' && !/grace/.test(err.message)) return err.message;
  return err instanceof ApiError && err.code === 'EXPIRATION_IN_PAST' ? 'The expiration date is in the past; choose a later date.' : null;
}

export function CreateServiceAccountDialog({ account, onClose, onCreated }: { account: AccountInfo; onClose: () => void; onCreated: () => void }) {
  const status = useStatus();
  const [name, setName] = useState('');
  const [expiration, setExpiration] = useState<ExpirationValue>(emptyExpiration());
  const { errors, setErrors, busy, send } = useFormSubmit<'name' | 'expiration'>();
  const [created, setCreated] = useState<ServiceAccountWithKey | null>(null);
  const limits = expirationLimits(account.keyPolicy);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs = {
      name: name.trim() ? null : 'Enter a name for the service account.',
      expiration: validateExpiration(expiration, limits),
    };
    setErrors(errs);
    if (errs.name || errs.expiration) return;
    await send(
      async () => {
        const result = await api.createServiceAccount(account.id, name.trim(), toExpiration(expiration));
        setCreated(result);
        status.success(`Service account ${result.name} created. Copy its API key now: it is shown only once.`);
        onCreated();
      },
      (err) => {
        if (err instanceof ApiError && err.code === 'SERVICE_ACCOUNT_NAME_TAKEN') return { name: err.message };
        if (expirationError(err)) return { expiration: expirationError(err) };
        if (err instanceof ApiError && err.status === 422 && /name/.test(err.message)) return { name: err.message };
        return null;
      },
    );
  };

  if (created) {
    return (
      <Dialog key="created" title="Service account created" onClose={onClose} testId="service-account-key-dialog" wide>
        <p>
          <strong>{created.name}</strong> is a Member of this account. Share a workspace with it to let it work there.
        </p>
        <KeyReveal apiKey={created.api_key.key} expiration={created.api_key.expiration} account={account} />
        <DoneAction onClose={onClose} />
      </Dialog>
    );
  }

  return (
    <Dialog key="form" title="Create service account" onClose={onClose} testId="create-service-account-dialog">
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Name" value={name} onChange={setName} error={errors.name} hint="Unique within this account." autoComplete="off" maxLength={255} />
        <ExpirationField value={expiration} onChange={setExpiration} error={errors.expiration} limits={limits} />
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Creating…" label="Create" />
      </form>
    </Dialog>
  );
}

const MAX_GRACE_HOURS = 48;

export function RotateKeyDialog({
  account,
  serviceAccount,
  onClose,
  onRotated,
}: {
  account: AccountInfo;
  serviceAccount: ServiceAccount;
  onClose: () => void;
  onRotated: () => void;
}) {
  const status = useStatus();
  const [expiration, setExpiration] = useState<ExpirationValue>(emptyExpiration());
  const [keepOld, setKeepOld] = useState(false);
  const [hours, setHours] = useState('24');
  const { errors, setErrors, busy, send } = useFormSubmit<'expiration' | 'hours'>();
  const [rotated, setRotated] = useState<{ result: ServiceAccountWithKey; oldUntil: Date | null } | null>(null);
  const limits = expirationLimits(account.keyPolicy);
  const policyGrace = account.keyPolicy?.max_rotation_grace_seconds ?? null;
  const maxHours = policyGrace === null ? MAX_GRACE_HOURS : Math.min(MAX_GRACE_HOURS, Math.floor(policyGrace / 3600));
  const graceRefused = maxHours < 1 ? `This account's key policy allows a rotation grace of at most ${policyGrace} seconds, less than an hour.` : null;
  // Old keys still inside an earlier rotation's grace, with their last use: is it safe to end it?
  const { data: keys } = useLoad(() => api.serviceAccountKeys(account.id, serviceAccount.id).catch(() => null), [account.id, serviceAccount.id]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const h = Number(hours);
    const errs = {
      expiration: validateExpiration(expiration, limits),
      hours: keepOld && !(Number.isInteger(h) && h >= 1 && h <= maxHours) ? `Enter a whole number of hours from 1 to ${maxHours}.` : null,
    };
    setErrors(errs);
    if (errs.expiration || errs.hours) return;
    const grace = keepOld ? h * 3600 : null;
    await send(
      async () => {
        const result = await api.rotateServiceAccountKey(account.id, serviceAccount.id, toExpiration(expiration), grace);
        setRotated({ result, oldUntil: grace ? new Date(Date.now() + grace * 1000) : null });
        status.success(`New API key issued for ${serviceAccount.name}. Copy it now: it is shown only once.`);
        onRotated();
      },
      (err) => {
        if (expirationError(err)) return { expiration: expirationError(err) };
        if (err instanceof ApiError && (err.code === 'GRACE_PERIOD_TOO_LONG' || err.code === 'KEY_POLICY_VIOLATION')) return { hours: err.message };
        return null;
      },
    );
  };

  if (rotated) {
    return (
      <Dialog key="rotated" title="API key rotated" onClose={onClose} testId="service-account-key-dialog" wide>
        <p>
          {rotated.oldUntil
            ? `The old key of ${serviceAccount.name} keeps working until about ${formatDateTime(rotated.oldUntil.toISOString())} (never past its own expiration), then stops.`
            : `The old key of ${serviceAccount.name} no longer works.`}
          {rotated.oldUntil && ` ${oldKeyUse(serviceAccount.api_key?.last_used_at)}`}
        </p>
        <KeyReveal apiKey={rotated.result.api_key.key} expiration={rotated.result.api_key.expiration} account={account} />
        <DoneAction onClose={onClose} />
      </Dialog>
    );
  }

  return (
    <Dialog key="form" title={`Rotate API key: ${serviceAccount.name}`} onClose={onClose} testId="rotate-key-dialog">
      <form className="stack" onSubmit={submit} noValidate>
        <p>A new key replaces the current one. Unless you keep it working for a while, the current key stops working at once.</p>
        {serviceAccount.api_key && (
          <p className="small" data-testid="current-key-last-use">
            {serviceAccount.api_key.last_used_at ? `The current key was last used ${timeAgo(serviceAccount.api_key.last_used_at)}.` : 'The current key has never been used.'}
          </p>
        )}
        {keys?.rotating_keys.map((k) => (
          <p key={k.id} className="small" data-testid="old-key-last-use">
            An old key ({k.masked_key}) still works until {formatDateTime(k.expiration)}; {oldKeyUse(k.last_used_at).replace(/^T/, 't')}
          </p>
        ))}
        <ExpirationField value={expiration} onChange={setExpiration} error={errors.expiration} legend="New key expiration" limits={limits} />
        <Checkbox
          label={`Keep the old key working for up to ${maxHours} hour${maxHours === 1 ? '' : 's'}`}
          checked={keepOld}
          disabled={graceRefused !== null}
          title={graceRefused ?? undefined}
          onChange={setKeepOld}
        />
        {graceRefused && <p className="field-hint">{graceRefused}</p>}
        {keepOld && <Field label="Hours the old key keeps working" type="number" min={1} max={maxHours} step={1} value={hours} onChange={setHours} error={errors.hours} />}
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Rotating…" label="Rotate API Key" />
      </form>
    </Dialog>
  );
}

/** "The old key was last used 40 seconds ago." — whether ending its grace would stop a client. */
function oldKeyUse(lastUsedAt: string | null | undefined): string {
  return lastUsedAt ? `The old key was last used ${timeAgo(lastUsedAt)}.` : 'The old key has never been used.';
}
