// Who is signed in, which account is selected, and what the caller may do in it.
import { createContext, useContext } from 'react';
import type { MyAccount, Session } from './api';

export interface AppState {
  session: Session;
  accounts: MyAccount[];
  /** Null when the user belongs to no account (they can still manage their own keys). */
  account: MyAccount | null;
  permissions: ReadonlySet<string>;
  selectAccount: (accountId: string) => void;
  signOut: () => Promise<void>;
  /** Ends the page's session state after the server ended it (terminated, expired). */
  sessionEnded: (message?: string) => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside a signed-in page');
  return ctx;
}

/** The selected account and a permission check, for pages that only make sense inside one. */
export function useAccount(): { account: MyAccount; can: (permission: string) => boolean; app: AppState } {
  const app = useApp();
  if (!app.account) throw new Error('useAccount without an account');
  return { account: app.account, can: (p) => app.permissions.has(p), app };
}

const STORAGE_KEY = 'gatehouse.account';

export function rememberedAccount(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function rememberAccount(accountId: string): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, accountId);
  } catch {
    // Private windows may refuse storage; the choice then lasts until reload.
  }
}
