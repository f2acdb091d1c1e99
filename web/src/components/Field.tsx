// A labelled input with its own inline error, tied together for screen readers; a labelled checkbox;
// a new password with its confirmation.
import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

interface Props extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange'> {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  hint?: ReactNode;
}

export function Field({ label, value, onChange, error, hint, ...rest }: Props) {
  const id = useId();
  const errorId = useId();
  const hintId = useId();
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        {...rest}
      />
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A form-level error (from the API), announced when it appears. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  );
}

/** A checkbox with its label; the label may hold markup. */
export function Checkbox({ label, checked, onChange, disabled, title }: { label: ReactNode; checked: boolean; onChange: (checked: boolean) => void; disabled?: boolean; title?: string }) {
  const id = useId();
  return (
    <div className="checkbox">
      <input id={id} type="checkbox" checked={checked} disabled={disabled} title={title} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/** The shortest password Gatehouse takes. */
export const MIN_PASSWORD = 10;

/** What is wrong with a new password and its confirmation, under the field to fix first. */
export function newPasswordErrors(password: string, confirm: string): Record<string, string> {
  if (password.length < MIN_PASSWORD) return { password: `Use at least ${MIN_PASSWORD} characters.` };
  if (password !== confirm) return { confirm: 'The two passwords differ.' };
  return {};
}

interface NewPassword {
  password: string;
  confirm: string;
}

interface PasswordProps {
  /** "Password" or "New password"; the second field is "Confirm" and the same in lower case. */
  label?: string;
  value: NewPassword;
  onChange: (change: Partial<NewPassword>) => void;
  errors: { password?: string | null; confirm?: string | null };
}

/** A new password and the same again, which the browser may offer to generate and save. */
export function NewPasswordFields({ label = 'Password', value, onChange, errors }: PasswordProps) {
  return (
    <>
      <Field
        label={label}
        type="password"
        value={value.password}
        onChange={(password) => onChange({ password })}
        error={errors.password}
        hint={`At least ${MIN_PASSWORD} characters.`}
        autoComplete="new-password"
      />
      <Field
        label={`Confirm ${label.toLowerCase()}`}
        type="password"
        value={value.confirm}
        onChange={(confirm) => onChange({ confirm })}
        error={errors.confirm}
        autoComplete="new-password"
      />
    </>
  );
}
