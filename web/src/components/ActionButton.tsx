// The buttons that act at once on one thing of a page (Remove, Enable, Verify): each is named for
// screen readers after what it acts on, and is off while a change runs.
import type { ReactNode } from 'react';
import type { useChange } from '../hooks';

type Change = ReturnType<typeof useChange>['change'];

interface Props {
  /** The accessible name: the act and what it acts on ("Remove 10.0.0.0/8"). */
  label: string;
  onClick: () => void;
  disabled?: boolean;
  /** It takes something away: shown in the danger colour. */
  danger?: boolean;
  children: ReactNode;
}

export function ActionButton({ label, onClick, disabled, danger, children }: Props) {
  return (
    <button type="button" className={danger ? 'danger-text' : undefined} disabled={disabled} aria-label={label} onClick={onClick}>
      {children}
    </button>
  );
}

/**
 * Disable `name` while it is enabled, enable it while it is not: `toggle` asks the server, as one
 * of the page's changes, which then says what happened.
 */
export function EnableButton({ name, enabled, busy, change, toggle }: { name: string; enabled: boolean; busy: boolean; change: Change; toggle: () => Promise<unknown> }) {
  const act = enabled ? 'Disable' : 'Enable';
  return (
    <ActionButton label={`${act} ${name}`} disabled={busy} onClick={() => void change(toggle, `${name} ${enabled ? 'disabled' : 'enabled'}.`)}>
      {act}
    </ActionButton>
  );
}
