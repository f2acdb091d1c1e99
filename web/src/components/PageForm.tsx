// A form on a page rather than in a dialog (add an address, create a team): its heading names it,
// and its submit button is off while a change runs.
import type { ReactNode } from 'react';

interface Props {
  /** The heading's id, which names the form. */
  id: string;
  title: string;
  /** A form inside a section of the page has an h3. */
  level?: 2 | 3;
  onSubmit: () => unknown;
  busy: boolean;
  submitLabel: string;
  /** Shows Cancel after the submit button. */
  onCancel?: () => void;
  children: ReactNode;
}

export function PageForm({ id, title, level = 2, onSubmit, busy, submitLabel, onCancel, children }: Props) {
  const Heading = level === 3 ? 'h3' : 'h2';
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
      aria-labelledby={id}
    >
      <Heading id={id}>{title}</Heading>
      {children}
      <button type="submit" className="primary" disabled={busy}>
        {submitLabel}
      </button>
      {onCancel && (
        <>
          {' '}
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </>
      )}
    </form>
  );
}
