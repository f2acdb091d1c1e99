// What a page shows while its data loads, or when loading failed.
import type { ReactNode } from 'react';
import { ApiError, errorMessage } from '../api';

interface Props {
  /** True once the data has arrived at least once; later reloads keep showing it. */
  ready: boolean;
  error: unknown;
  onRetry?: () => void;
  children: ReactNode;
}

export function PageState({ ready, error, onRetry, children }: Props) {
  const banner = error ? (
    <div className="page-error" role="alert">
      <p>
        {error instanceof ApiError && error.status === 403
          ? `You do not have access to this: ${errorMessage(error)}`
          : `Could not load this page: ${errorMessage(error)}`}
      </p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  ) : null;
  if (!ready) return banner ?? <p className="loading">Loading…</p>;
  return (
    <>
      {banner}
      {children}
    </>
  );
}
