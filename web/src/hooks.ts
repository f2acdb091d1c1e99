// Loading data for a page: one call, its result or error, and a way to load it again; running a
// change; and the state of a confirm dialog.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await loader.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (mine !== generation.current) return;
      setError(err);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setData(undefined);
    void reload();
  }, deps);

  return { data, error, loading, reload };
}

/**
 * A confirm dialog's state: what it is open for (`target`), whether the act runs, and why it failed.
 * `run` closes the dialog and calls `done` when the act succeeds; on failure the dialog stays open
 * with the error. Spread `dialog` into <ConfirmDialog>.
 */
export function useConfirm<T>() {
  const [target, setTarget] = useState<T | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = (value: T) => {
    setError(null);
    setTarget(value);
  };
  const close = () => setTarget(null);
  const run = async (act: () => Promise<unknown>, done: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await act();
      setTarget(null);
      done();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { target, open, close, run, dialog: { busy, error, onClose: close } };
}

/**
 * A page's changes: `change(act, done)` runs one, then on success says `done` and reloads, on
 * refusal shows the server's reason as `problem`; `busy` while one runs.
 */
export function useChange(reload: () => Promise<void>, success: (message: string) => void) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const change = async (act: () => Promise<unknown>, done: string): Promise<boolean> => {
    setBusy(true);
    setProblem(null);
    try {
      await act();
      success(done);
      await reload();
      return true;
    } catch (err) {
      setProblem(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, setBusy, problem, setProblem, change };
}
