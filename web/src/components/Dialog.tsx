// A modal dialog on the native <dialog>: focus moves inside on open, Escape closes, focus returns.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { FormError } from './Field';

interface Props {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  wide?: boolean;
  /** Optional text under the title, read as the dialog's description. */
  description?: ReactNode;
}

export function Dialog({ title, onClose, children, testId, wide, description }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const target =
      dialog.querySelector<HTMLElement>('[data-autofocus]') ??
      dialog.querySelector<HTMLElement>('input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([readonly])') ??
      dialog.querySelector<HTMLElement>('.dialog-body button, .dialog-actions button');
    target?.focus();
    // The native close event also comes from Chrome's forced close after repeated Escape. It is
    // dispatched later than close(): one from this effect's own cleanup (React runs effects twice in
    // development) arrives when the dialog is open again, and is not the person closing it.
    const onNativeClose = () => {
      if (!dialog.open) closeRef.current();
    };
    dialog.addEventListener('close', onNativeClose);
    return () => {
      dialog.removeEventListener('close', onNativeClose);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`dialog${wide ? ' dialog-wide' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button dialog-close" aria-label="Close dialog" onClick={onClose}>
          ×
        </button>
      </div>
      {description && (
        <div id={descId} className="dialog-description">
          {description}
        </div>
      )}
      <div className="dialog-body">{children}</div>
    </dialog>
  );
}

interface ConfirmProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
  busy?: boolean;
  error?: string | null;
  danger?: boolean;
  testId?: string;
}

/** "Are you sure?" with the consequence spelled out; the confirm button names the act. */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose, busy, error, danger = true, testId }: ConfirmProps) {
  return (
    <Dialog title={title} onClose={onClose} testId={testId}>
      <div className="confirm-text">{children}</div>
      <FormError message={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={() => void onConfirm()} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** The end of every form dialog: Cancel, and the submit button that says when it is working. */
export function FormActions({ onCancel, busy, label, busyLabel }: { onCancel: () => void; busy: boolean; label: string; busyLabel: string }) {
  return (
    <div className="dialog-actions">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}

/** The one button of a dialog that shows a result (a key, a link) once. */
export function DoneAction({ onClose }: { onClose: () => void }) {
  return (
    <div className="dialog-actions">
      <button type="button" className="primary" onClick={onClose}>
        Done
      </button>
    </div>
  );
}
