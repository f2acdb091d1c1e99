// A read-only value with a Copy button. Without clipboard access (plain http on another host) the
// text is selected instead, so Ctrl+C / Cmd+C copies it.
import { useId, useRef } from 'react';
import { useStatus } from './Status';

interface Props {
  label: string;
  value: string;
  copyLabel: string;
  multiline?: boolean;
  testId?: string;
  /** What the status line calls the thing copied ("API key", "Commands"). */
  what?: string;
}

export function CopyField({ label, value, copyLabel, multiline, testId, what }: Props) {
  const id = useId();
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const status = useStatus();

  const copy = async () => {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      status.success(`${what ?? label} copied to the clipboard.`);
    } catch {
      const el = ref.current;
      if (el) {
        el.focus();
        el.select();
      }
      let copied = false;
      try {
        copied = document.execCommand('copy');
      } catch {
        copied = false;
      }
      if (copied) status.success(`${what ?? label} copied to the clipboard.`);
      else status.info(`${what ?? label} is selected: press Ctrl+C (or ⌘C) to copy it.`);
    }
  };

  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        {multiline ? (
          <textarea
            id={id}
            ref={ref}
            readOnly
            value={value}
            rows={Math.max(1, value.split('\n').length)}
            spellCheck={false}
            className="mono"
            data-testid={testId}
            onFocus={(e) => e.currentTarget.select()}
          />
        ) : (
          <input id={id} ref={ref} readOnly value={value} spellCheck={false} className="mono" data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
        )}
        <button type="button" onClick={() => void copy()}>
          {copyLabel}
        </button>
      </div>
    </div>
  );
}
