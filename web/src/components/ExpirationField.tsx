// An API key's expiration: a date, or the "Never Expire" toggle, within the account's key policy
// when one applies (the latest date allowed, Never Expire disabled with the reason).
import { useId } from 'react';
import type { KeyPolicy } from '../api';
import { dateInputToExpiration, todayInput } from '../format';

export interface ExpirationValue {
  never: boolean;
  date: string;
}

/** What the account's key policy allows a new key, as the date picker needs it. */
export interface ExpirationLimits {
  /** The last day (YYYY-MM-DD, local) a key may expire on; null: no limit. */
  maxDate: string | null;
  /** Why Never Expire is not offered; null: it is. */
  neverRefused: string | null;
  /** One sentence on the policy for the dialog, or null when it sets no limit on expiry. */
  summary: string | null;
}

export const NO_LIMITS: ExpirationLimits = { maxDate: null, neverRefused: null, summary: null };

const pad = (n: number) => String(n).padStart(2, '0');
const localDate = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** The limits a key policy puts on a key issued now; a key chosen "on" a day expires at its end, so the last day is the one whose end still fits. */
export function expirationLimits(policy: KeyPolicy | null | undefined, now = new Date()): ExpirationLimits {
  if (!policy) return NO_LIMITS;
  const days = policy.max_key_lifetime_days;
  let maxDate: string | null = null;
  if (days !== null) {
    const latest = new Date(now.getTime() + days * 86_400_000);
    const day = new Date(latest);
    if (new Date(dateInputToExpiration(localDate(day))).getTime() > latest.getTime()) day.setDate(day.getDate() - 1);
    maxDate = localDate(day);
  }
  const neverRefused =
    days !== null ? `This account's key policy allows keys of at most ${days} day${days === 1 ? '' : 's'}.` : policy.allow_never_expire ? null : "This account's key policy does not allow keys that never expire.";
  const parts = [days !== null ? `keys of at most ${days} day${days === 1 ? '' : 's'}` : null, policy.allow_never_expire && days === null ? null : 'no keys that never expire'].filter(Boolean);
  return { maxDate, neverRefused, summary: parts.length ? `This account's key policy allows ${parts.join(', ')}.` : null };
}

export const emptyExpiration = (never = false): ExpirationValue => ({ never, date: '' });

export function validateExpiration(v: ExpirationValue, limits: ExpirationLimits = NO_LIMITS): string | null {
  if (v.never) return limits.neverRefused ? `${limits.neverRefused} Choose an expiration date.` : null;
  if (!v.date) return limits.neverRefused ? 'Choose an expiration date.' : 'Choose an expiration date, or select Never Expire.';
  if (v.date < todayInput()) return 'The expiration date is in the past; choose a later date.';
  if (limits.maxDate && v.date > limits.maxDate) return `This account's key policy allows an expiration up to ${limits.maxDate}; choose that day or an earlier one.`;
  return null;
}

export function toExpiration(v: ExpirationValue): string | null {
  return v.never ? null : dateInputToExpiration(v.date);
}

interface Props {
  value: ExpirationValue;
  onChange: (v: ExpirationValue) => void;
  error?: string | null;
  legend?: string;
  dateLabel?: string;
  limits?: ExpirationLimits;
}

export function ExpirationField({ value, onChange, error, legend = 'Key expiration', dateLabel = 'Expiration date', limits = NO_LIMITS }: Props) {
  const dateId = useId();
  const neverId = useId();
  const errorId = useId();
  const policyId = useId();
  const describedBy = [error ? errorId : null, limits.summary ? policyId : null].filter(Boolean).join(' ') || undefined;
  return (
    <fieldset className="field expiration-field">
      <legend>{legend}</legend>
      {limits.summary && (
        <p id={policyId} className="field-hint" data-testid="key-policy-hint">
          {limits.summary}
        </p>
      )}
      <div className="expiration-row">
        <div className="field-inline">
          <label htmlFor={dateId}>{dateLabel}</label>
          <input
            id={dateId}
            type="date"
            min={todayInput()}
            max={limits.maxDate ?? undefined}
            value={value.date}
            disabled={value.never}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy}
            onChange={(e) => onChange({ ...value, date: e.target.value })}
          />
        </div>
        <div className="checkbox">
          <input
            id={neverId}
            type="checkbox"
            checked={value.never}
            disabled={limits.neverRefused !== null && !value.never}
            title={limits.neverRefused ?? undefined}
            aria-describedby={limits.neverRefused ? policyId : undefined}
            onChange={(e) => onChange({ ...value, never: e.target.checked })}
          />
          <label htmlFor={neverId}>Never Expire</label>
        </div>
      </div>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
