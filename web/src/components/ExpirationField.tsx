// An API key's expiration: a date, or the "Never Expire" toggle.
import { useId } from 'react';
import { dateInputToExpiration, todayInput } from '../format';

export interface ExpirationValue {
  never: boolean;
  date: string;
}

export const emptyExpiration = (never = false): ExpirationValue => ({ never, date: '' });

export function validateExpiration(v: ExpirationValue): string | null {
  if (v.never) return null;
  if (!v.date) return 'Choose an expiration date, or select Never Expire.';
  if (v.date < todayInput()) return 'The expiration date is in the past; choose a later date.';
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
}

export function ExpirationField({ value, onChange, error, legend = 'Key expiration', dateLabel = 'Expiration date' }: Props) {
  const dateId = useId();
  const neverId = useId();
  const errorId = useId();
  return (
    <fieldset className="field expiration-field">
      <legend>{legend}</legend>
      <div className="expiration-row">
        <div className="field-inline">
          <label htmlFor={dateId}>{dateLabel}</label>
          <input
            id={dateId}
            type="date"
            min={todayInput()}
            value={value.date}
            disabled={value.never}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            onChange={(e) => onChange({ ...value, date: e.target.value })}
          />
        </div>
        <div className="checkbox">
          <input id={neverId} type="checkbox" checked={value.never} onChange={(e) => onChange({ ...value, never: e.target.checked })} />
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
