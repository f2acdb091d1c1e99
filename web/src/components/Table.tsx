// The pages' tables: a scrolling wrapper with column headings (or, for an empty list, a sentence
// that says so), a cell that shows a value as code, and the button that ends a row.
import type { ReactNode } from 'react';
import { ActionButton } from './ActionButton';

/** A heading; a `hidden` one is for screen readers only (a column of buttons); `false` leaves it out. */
export type Column = string | { hidden: string; className?: string } | false;

interface TableProps<T> {
  label: string;
  columns: Column[];
  rows: T[];
  row: (item: T) => ReactNode;
  /** Shown instead of the table when there are no rows; without it an empty table is shown. */
  empty?: ReactNode;
  testId?: string;
}

export function DataTable<T>({ label, columns, rows, row, empty, testId }: TableProps<T>) {
  if (empty !== undefined && rows.length === 0) return <p className="empty">{empty}</p>;
  return (
    <div className="table-scroll">
      <table aria-label={label} data-testid={testId}>
        <thead>
          <tr>
            {columns.map((column, i) =>
              column === false ? null : typeof column === 'string' ? (
                <th key={i} scope="col">
                  {column}
                </th>
              ) : (
                <th key={i} scope="col" className={column.className}>
                  <span className="sr-only">{column.hidden}</span>
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{rows.map(row)}</tbody>
      </table>
    </div>
  );
}

/** A cell that shows a literal value (an address, an issuer, a masked key) as code. */
export function CodeCell({ children }: { children: ReactNode }) {
  return (
    <td>
      <code>{children}</code>
    </td>
  );
}

/** The last cell of a row: one button that acts on the row (Remove, Delete, Terminate). */
export function RowAction({ label, onClick, disabled, children }: { label: string; onClick: () => void; disabled?: boolean; children: ReactNode }) {
  return (
    <td>
      <ActionButton danger label={label} disabled={disabled} onClick={onClick}>
        {children}
      </ActionButton>
    </td>
  );
}
