// The signed-in frame: account switcher, navigation, sign-out, and the page itself.
import { useId, type ReactNode } from 'react';
import { useApp } from '../context';
import { Link, useLocation } from '../router';

export const NAV = [
  { to: '/service-accounts', label: 'Service Accounts' },
  { to: '/workspaces', label: 'Workspaces' },
  { to: '/members', label: 'Members' },
  { to: '/teams', label: 'Teams' },
  { to: '/roles', label: 'Roles' },
  { to: '/key-policy', label: 'Key policy' },
  { to: '/audit-log', label: 'Audit log' },
  { to: '/ip-allowlist', label: 'IP allowlist' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/single-sign-on', label: 'Single sign-on' },
  { to: '/scim', label: 'SCIM' },
  { to: '/my-api-keys', label: 'My API keys' },
] as const;

export function Layout({ children }: { children: ReactNode }) {
  const app = useApp();
  const { path } = useLocation();
  const switcherId = useId();
  const user = app.session.user;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Gatehouse</span>
        {app.accounts.length > 0 && (
          <div className="account-switcher">
            <label htmlFor={switcherId}>Account</label>
            <select id={switcherId} value={app.account?.account_id ?? ''} onChange={(e) => app.selectAccount(e.target.value)}>
              {app.accounts.map((a) => (
                <option key={a.account_id} value={a.account_id}>
                  {a.account_name} ({a.account_role_name})
                </option>
              ))}
            </select>
          </div>
        )}
        <span className="whoami" data-testid="whoami">
          {user.email}
        </span>
        <button type="button" onClick={() => void app.signOut()}>
          Sign out
        </button>
      </header>
      <div className="shell">
        <nav aria-label="Main" className="sidenav">
          <ul>
            {NAV.map((item) => {
              const active = path === item.to || path.startsWith(`${item.to}/`);
              return (
                <li key={item.to}>
                  <Link to={item.to} aria-current={active ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
