// The one status line: every action reports here, in words, with role="status" so it is announced.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { errorMessage } from '../api';

type Kind = 'success' | 'error' | 'info';
interface Message {
  id: number;
  text: string;
  kind: Kind;
}

interface StatusApi {
  success: (text: string) => void;
  info: (text: string) => void;
  error: (err: unknown, prefix?: string) => void;
  /** Runs `act` and reports `success`, or the error after `failure`. */
  attempt: (act: () => Promise<unknown>, success: string, failure: string) => Promise<void>;
}

const StatusContext = createContext<StatusApi | null>(null);
const MessageContext = createContext<{ message: Message | null; clear: () => void }>({ message: null, clear: () => {} });

let nextId = 1;

export function StatusProvider({ children }: { children: ReactNode }) {
  const [message, setMessage] = useState<Message | null>(null);
  const show = useCallback((text: string, kind: Kind) => setMessage({ id: nextId++, text, kind }), []);
  const api = useMemo<StatusApi>(
    () => ({
      success: (text) => show(text, 'success'),
      info: (text) => show(text, 'info'),
      error: (err, prefix) => show(prefix ? `${prefix}: ${errorMessage(err)}` : errorMessage(err), 'error'),
      attempt: async (act, success, failure) => {
        try {
          await act();
          show(success, 'success');
        } catch (err) {
          show(`${failure}: ${errorMessage(err)}`, 'error');
        }
      },
    }),
    [show],
  );
  const clear = useCallback(() => setMessage(null), []);
  return (
    <StatusContext.Provider value={api}>
      <MessageContext.Provider value={{ message, clear }}>{children}</MessageContext.Provider>
    </StatusContext.Provider>
  );
}

export function useStatus(): StatusApi {
  const ctx = useContext(StatusContext);
  if (!ctx) throw new Error('useStatus outside StatusProvider');
  return ctx;
}

/** Stays until the next message or until dismissed, so nobody has to race to read it. */
export function StatusLine() {
  const { message, clear } = useContext(MessageContext);
  return (
    <div className={`status-line ${message ? `status-${message.kind}` : 'status-empty'}`} data-testid="status-line">
      <p role="status" aria-live="polite" aria-atomic="true">
        {message?.text ?? ''}
      </p>
      {message && (
        <button type="button" className="link-button" onClick={clear} aria-label="Dismiss message">
          Dismiss
        </button>
      )}
    </div>
  );
}
