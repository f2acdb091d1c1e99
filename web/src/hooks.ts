// Loading data for a page: one call, its result or error, and a way to load it again; running a
// change or sending a form; and the state of a confirm dialog.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from './api';
import { useStatus } from './components/Status';
import { useAccount } from './context';

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
 * `run(act, done)` closes the dialog when the act succeeds, says `done` on the status line and
 * reloads; on failure the dialog stays open with the error. Spread `dialog` into <ConfirmDialog>.
 */
export function useConfirm<T>(reload: () => Promise<void>) {
  const status = useStatus();
  const [target, setTarget] = useState<T | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = (value: T) => {
    setError(null);
    setTarget(value);
  };
  const close = () => setTarget(null);
  const run = async (act: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      await act();
      setTarget(null);
      status.success(done);
      void reload();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { target, open, close, run, dialog: { busy, error, onClose: close } };
}

/**
 * Something a person asked for that the server may refuse: `attempt(act)` runs it, `busy` meanwhile,
 * and answers whether it went through; a refusal shows the server's reason as `problem`.
 */
export function useAttempt() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const attempt = async (act: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setProblem(null);
    try {
      await act();
      return true;
    } catch (err) {
      setProblem(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, setProblem, attempt };
}

/** A page's changes: `change(act, done)` attempts one, then on success says `done` on the status line and reloads. */
export function useChange(reload: () => Promise<void>) {
  const status = useStatus();
  const { attempt, ...state } = useAttempt();
  const change = (act: () => Promise<unknown>, done: string) =>
    attempt(async () => {
      await act();
      status.success(done);
      await reload();
    });
  return { ...state, attempt, change };
}

/**
 * A page of the account that only people with `permission` may see: its data (null for anyone
 * else), loaded for the account `a`, and its changes.
 */
export function useAccountPage<T>(permission: string, load: (accountId: string) => Promise<T>) {
  const { account, can } = useAccount();
  const a = account.account_id;
  const allowed = can(permission);
  const loaded = useLoad(async () => (allowed ? load(a) : null), [a, allowed]);
  return { a, can, allowed, loaded, ...useChange(loaded.reload) };
}

/** A form's errors: each under its field, or under `form` when it is about the whole. */
export type FormErrors<F extends string> = Partial<Record<F | 'form', string | null>>;

/**
 * A form that reports errors under its fields: `send(act, fieldOf)` runs `act`, `busy` meanwhile; a
 * refusal goes under the field that `fieldOf` picks for it, or else under `form`.
 */
export function useFormSubmit<F extends string>() {
  const [errors, setErrors] = useState<FormErrors<F>>({});
  const [busy, setBusy] = useState(false);
  const send = async (act: () => Promise<unknown>, fieldOf: (err: unknown) => FormErrors<F> | null = () => null) => {
    setBusy(true);
    try {
      await act();
    } catch (err) {
      setErrors(fieldOf(err) ?? ({ form: errorMessage(err) } as FormErrors<F>));
    } finally {
      setBusy(false);
    }
  };
  return { errors, setErrors, busy, send };
}
