// What a page shows while its data loads, or when loading failed; and a whole page of one load.
import type { ReactNode } from 'react';
import { ApiError, errorMessage } from '../api';
import type { Loaded } from '../hooks';
import { PageHeader } from './PageHeader';

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

/** PageState for one `useLoad`: `children` get its data once it has arrived; Try again loads it again. */
export function WhenLoaded<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  return (
    <PageState ready={loaded.data !== undefined} error={loaded.error} onRetry={() => void loaded.reload()}>
      {loaded.data !== undefined && children(loaded.data)}
    </PageState>
  );
}

interface PageProps<T> {
  id: string;
  title: string;
  /** Why this person may not see the page, in place of its data; their `loaded` data is null. */
  denied?: string | false;
  loaded: Loaded<T | null>;
  children: (data: T) => ReactNode;
}

/** A page under one heading that shows one load of data once it has arrived, or why this person may not see it. */
export function LoadedPage<T>({ id, title, denied, loaded, children }: PageProps<T>) {
  return (
    <div>
      <PageHeader id={id} title={title} />
      {denied ? <p>{denied}</p> : <WhenLoaded loaded={loaded}>{(data) => data !== null && children(data)}</WhenLoaded>}
    </div>
  );
}
