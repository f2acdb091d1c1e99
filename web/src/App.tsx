// Routing and session state: public pages (sign-in, setup, invitations) and the signed-in pages.
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, errorMessage, setCsrfToken, setUnauthorizedHandler, type MyAccount, type Session } from './api';
import { Layout } from './components/Layout';
import { StatusLine, useStatus } from './components/Status';
import { AppContext, rememberAccount, rememberedAccount, type AppState } from './context';
import { AcceptInvitationPage } from './pages/AcceptInvitation';
import { AuditLogPage } from './pages/AuditLog';
import { IpAllowlistPage } from './pages/IpAllowlist';
import { WebhooksPage } from './pages/Webhooks';
import { SingleSignOnPage } from './pages/SingleSignOn';
import { TeamsPage } from './pages/Teams';
import { ScimPage } from './pages/Scim';
import { CliLoginPage } from './pages/CliLogin';
import { MembersPage } from './pages/Members';
import { MyApiKeysPage } from './pages/MyApiKeys';
import { RolesPage } from './pages/Roles';
import { KeyPolicyPage } from './pages/KeyPolicy';
import { ServiceAccountsPage } from './pages/ServiceAccounts';
import { SetupPage } from './pages/Setup';
import { returnPath, SignInPage } from './pages/SignIn';
import { VerifyEmailPage } from './pages/VerifyEmail';
import { WorkspaceSharingPage } from './pages/WorkspaceSharing';
import { WorkspacesPage } from './pages/Workspaces';
import { match, navigate, useLocation } from './router';

type Auth = { state: 'loading' } | { state: 'signed-out' } | { state: 'error'; error: unknown } | { state: 'signed-in'; session: Session };

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });
  const status = useStatus();
  const { path } = useLocation();

  const loadSession = useCallback(async () => {
    try {
      const session = await api.session();
      setCsrfToken(session.csrf_token);
      setAuth({ state: 'signed-in', session });
    } catch (err) {
      setCsrfToken(null);
      setAuth(err instanceof ApiError && err.status === 401 ? { state: 'signed-out' } : { state: 'error', error: err });
    }
  }, []);

  const authRef = useRef(auth);
  authRef.current = auth;
  const sessionEnded = useCallback(
    (message?: string) => {
      setCsrfToken(null);
      if (authRef.current.state === 'signed-in') status.info(message ?? 'Your session has ended. Sign in again to continue.');
      setAuth({ state: 'signed-out' });
    },
    [status],
  );

  useEffect(() => {
    setUnauthorizedHandler(() => sessionEnded());
    void loadSession();
    return () => setUnauthorizedHandler(null);
  }, [loadSession, sessionEnded]);

  const signedIn = (session: Session) => {
    setCsrfToken(session.csrf_token);
    setAuth({ state: 'signed-in', session });
  };

  let page: ReactNode;
  const invitation = match('/invitations/:id/accept', path);
  if (path === '/setup') {
    page = <SetupPage onSignedIn={loadSession} />;
  } else if (invitation) {
    page = (
      <AcceptInvitationPage
        invitationId={invitation.id!}
        session={auth.state === 'signed-in' ? auth.session : null}
        sessionLoading={auth.state === 'loading'}
        onSignedIn={loadSession}
        onSignIn={signedIn}
        onSignOut={async () => {
          await api.logout().catch(() => undefined);
          sessionEnded('You have signed out.');
        }}
      />
    );
  } else if (auth.state === 'loading') {
    page = <p className="loading centered">Loading…</p>;
  } else if (auth.state === 'error') {
    page = (
      <div className="public-page">
        <h1>Gatehouse</h1>
        <p role="alert">Could not reach the server: {errorMessage(auth.error)}</p>
        <button type="button" onClick={() => void loadSession()}>
          Try again
        </button>
      </div>
    );
  } else if (path === '/auth/client') {
    // The Prefect CLI's browser login: it signs in in place, so the link keeps its callback.
    page = (
      <CliLoginPage
        session={auth.state === 'signed-in' ? auth.session : null}
        onSignIn={signedIn}
        onSignOut={async () => {
          await api.logout().catch(() => undefined);
          sessionEnded('You have signed out.');
        }}
      />
    );
  } else if (auth.state === 'signed-out') {
    page = <SignInPage onSignedIn={signedIn} />;
  } else {
    page = <SignedIn session={auth.session} sessionEnded={sessionEnded} />;
  }

  return (
    <>
      {page}
      <StatusLine />
    </>
  );
}

function SignedIn({ session, sessionEnded }: { session: Session; sessionEnded: (message?: string) => void }) {
  const status = useStatus();
  const { path } = useLocation();
  const [accounts, setAccounts] = useState<MyAccount[] | null>(null);
  const [accountsError, setAccountsError] = useState<unknown>(null);
  const [accountId, setAccountId] = useState<string | null>(rememberedAccount());
  const [permissions, setPermissions] = useState<{ accountId: string; set: ReadonlySet<string> } | null>(null);

  useEffect(() => {
    api.myAccounts().then(setAccounts, setAccountsError);
  }, [session.user.id]);

  const account = useMemo(() => {
    if (!accounts || accounts.length === 0) return null;
    return accounts.find((a) => a.account_id === accountId) ?? accounts[0]!;
  }, [accounts, accountId]);

  useEffect(() => {
    if (!account) return;
    let live = true;
    api.myPermissions(account.account_id).then(
      (list) => live && setPermissions({ accountId: account.account_id, set: new Set(list) }),
      (err) => {
        if (!live) return;
        status.error(err, 'Could not read your permissions');
        setPermissions({ accountId: account.account_id, set: new Set() });
      },
    );
    return () => {
      live = false;
    };
  }, [account, status]);

  useEffect(() => {
    if (path === '/sign-in') {
      // Already signed in: straight on to where the sign-in link was taking the person.
      const next = returnPath();
      if (next) window.location.replace(next);
      else navigate('/service-accounts', { replace: true });
    }
    if (path === '/') navigate('/service-accounts', { replace: true });
  }, [path]);

  const state: AppState | null = useMemo(
    () =>
      accounts === null
        ? null
        : {
            session,
            accounts,
            account,
            permissions: permissions && account && permissions.accountId === account.account_id ? permissions.set : new Set<string>(),
            selectAccount: (id: string) => {
              rememberAccount(id);
              setAccountId(id);
              if (path.startsWith('/workspaces/')) navigate('/workspaces');
              const chosen = accounts.find((a) => a.account_id === id);
              if (chosen) status.info(`Switched to account ${chosen.account_name}.`);
            },
            signOut: async () => {
              try {
                await api.logout();
              } catch (err) {
                status.error(err, 'Sign-out failed');
                return;
              }
              sessionEnded('You have signed out.');
            },
            sessionEnded,
          },
    [session, accounts, account, permissions, status, sessionEnded, path],
  );

  if (accountsError) {
    return (
      <div className="public-page" role="alert">
        Could not load your accounts: {errorMessage(accountsError)}
      </div>
    );
  }
  if (!state) return <p className="loading centered">Loading…</p>;
  const permissionsReady = !account || (permissions !== null && permissions.accountId === account.account_id);

  return (
    <AppContext.Provider value={state}>
      <Layout>{permissionsReady ? <Routes path={path} hasAccount={account !== null} /> : <p className="loading">Loading…</p>}</Layout>
    </AppContext.Provider>
  );
}

function Routes({ path, hasAccount }: { path: string; hasAccount: boolean }) {
  if (path === '/my-api-keys') return <MyApiKeysPage />;
  if (path === '/verify-email') return <VerifyEmailPage />;
  const accountPage = (node: ReactNode) =>
    hasAccount ? (
      node
    ) : (
      <div>
        <h1>No account</h1>
        <p>You are not a member of any account. Ask an account Owner or Admin for an invitation.</p>
      </div>
    );
  if (path === '/service-accounts' || path === '/') return accountPage(<ServiceAccountsPage />);
  if (path === '/workspaces') return accountPage(<WorkspacesPage />);
  const ws = match('/workspaces/:id', path);
  if (ws) return accountPage(<WorkspaceSharingPage workspaceId={ws.id!} />);
  if (path === '/members') return accountPage(<MembersPage />);
  if (path === '/roles') return accountPage(<RolesPage />);
  if (path === '/key-policy') return accountPage(<KeyPolicyPage />);
  if (path === '/audit-log') return accountPage(<AuditLogPage />);
  if (path === '/ip-allowlist') return accountPage(<IpAllowlistPage />);
  if (path === '/webhooks') return accountPage(<WebhooksPage />);
  if (path === '/single-sign-on') return accountPage(<SingleSignOnPage />);
  if (path === '/teams') return accountPage(<TeamsPage />);
  if (path === '/scim') return accountPage(<ScimPage />);
  return (
    <div>
      <h1>Page not found</h1>
      <p>There is no page at {path}. Use the navigation to pick one.</p>
    </div>
  );
}
