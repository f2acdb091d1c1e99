// The top of a page: its heading and the button that creates what the page lists.
import type { ReactNode } from 'react';

export function PageHeader({ id, title, children }: { id: string; title: string; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1 id={id}>{title}</h1>
      {children}
    </div>
  );
}

/** The round "+" button; its label says what it creates. */
export function AddButton({ label, onClick, testId }: { label: string; onClick: () => void; testId?: string }) {
  return (
    <button type="button" className="icon-button primary add-button" aria-label={label} title={label} onClick={onClick} data-testid={testId}>
      +
    </button>
  );
}
