// /auth/client?callback=http://localhost:PORT: `prefect cloud login` in a browser, as with Prefect
// Cloud. The signed-in person picks a workspace; Gatehouse creates a user API key for them and the
// page posts it to the CLI's callback on this computer (`/success`), or tells the CLI "no" (`/failure`).
import { useMemo, useState, type ReactNode } from 'react';
import { api, errorMessage, type MyWorkspace, type Session } from '../api';
import { FormError } from '../components/Field';
import { loopbackCallback } from '../cli-callback';
import { useLoad } from '../hooks';
import { useLocation } from '../router';
import { SignInPage } from './SignIn';

interface Props {
  session: Session | null;
  onSignIn: (session: Session) => void;
  onSignOut: () => Promise<void>;
}

type Phase = { step: 'choose'; error?: string } | { step: 'busy' } | { step: 'done'; keyName: string; workspace: string; choices: number };

const handleOf = (w: MyWorkspace) => `${w.account_handle}/${w.workspace_handle}`;

/** The name the key has in My API keys: what made it, for which workspace, when (UTC). */
export function cliKeyName(workspace: string, now = new Date()): string {
  return `Prefect CLI (browser login) ${workspace} ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** POSTs `body` as JSON to the CLI's callback; true when the CLI took it. */
async function tellCli(callback: string, outcome: 'success' | 'failure', body: object): Promise<boolean> {
  try {
    const res = await fetch(`${callback}/${outcome}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(15_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

export function CliLoginPage({ session, onSignIn, onSignOut }: Props) {
  const { query } = useLocation();
  const check = useMemo(() => loopbackCallback(query.getAll('callback')), [query]);
  const [cancel, setCancel] = useState<'no' | 'sending' | { told: boolean }>('no');

  const cancelLogin = async (callback: string) => {
    setCancel('sending');
    setCancel({ told: await tellCli(callback, 'failure', { reason: 'The login was cancelled in Gatehouse.' }) });
  };
  const cancelButton = (callback: string, busy = false) => (
    <button type="button" onClick={() => void cancelLogin(callback)} disabled={busy || cancel === 'sending'}>
      Cancel
    </button>
  );

  let body;
  if (typeof cancel === 'object') {
    body = (
      <div className="stack" role="status" data-testid="cli-login-cancelled">
        <p>
          <strong>Login cancelled.</strong> No API key was created. You can close this tab.
        </p>
        {!cancel.told && <p>The Prefect CLI did not answer; it stops waiting by itself after two minutes.</p>}
      </div>
    );
  } else if (!check.ok) {
    body = (
      <>
        <p role="alert" data-testid="callback-refused">
          {check.reason}
        </p>
        <p>No API key was created.</p>
      </>
    );
  } else if (!session) {
    body = (
      <>
        <p className="notice" role="note">
          The Prefect CLI on this computer asks to log in. Sign in to Gatehouse first; you then choose the workspace it uses.
        </p>
        <SignInPage embedded onSignedIn={onSignIn} />
        <div className="row">{cancelButton(check.url)}</div>
      </>
    );
  } else {
    body = <ChooseWorkspace callback={check.url} session={session} onSignOut={onSignOut} cancelButton={(busy) => cancelButton(check.url, busy)} />;
  }
  return (
    <main className="public-page" id="main">
      <h1>Log in the Prefect CLI</h1>
      {body}
    </main>
  );
}

interface ChooseProps {
  callback: string;
  session: Session;
  onSignOut: () => Promise<void>;
  cancelButton: (busy: boolean) => ReactNode;
}

function ChooseWorkspace({ callback, session, onSignOut, cancelButton }: ChooseProps) {
  const workspaces = useLoad(() => api.myWorkspaces(), [session.user.id]);
  const [chosen, setChosen] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ step: 'choose' });
  const list = workspaces.data ?? [];
  const selected = list.find((w) => w.workspace_id === chosen) ?? (list.length === 1 ? list[0] : undefined);

  const login = async () => {
    if (!selected) {
      setPhase({ step: 'choose', error: 'Choose the workspace the Prefect CLI should use.' });
      return;
    }
    setPhase({ step: 'busy' });
    const workspace = handleOf(selected);
    let key;
    try {
      // No expiration: the user-key default (no account setting in Gatehouse gives keys one).
      key = await api.createUserKey(session.user.id, cliKeyName(workspace), null);
    } catch (err) {
      setPhase({ step: 'choose', error: `Could not create an API key: ${errorMessage(err)}` });
      return;
    }
    if (await tellCli(callback, 'success', { api_key: key.key })) {
      setPhase({ step: 'done', keyName: key.name, workspace, choices: list.length });
      return;
    }
    // A key nobody received must not linger.
    await api.deleteUserKey(session.user.id, key.id).catch(() => undefined);
    setPhase({
      step: 'choose',
      error: `The Prefect CLI at ${callback} did not answer; the key was deleted again. The CLI waits two minutes for this page: run prefect cloud login again.`,
    });
  };

  if (phase.step === 'done') {
    return (
      <div className="stack" role="status" data-testid="cli-login-done">
        <p>
          <strong>The Prefect CLI is logged in.</strong> You can close this tab and return to your terminal.
        </p>
        {phase.choices > 1 && (
          <p>
            If the CLI asks which workspace to use, choose <strong>{phase.workspace}</strong>.
          </p>
        )}
        <p>
          Its API key is <strong>{phase.keyName}</strong> in <a href="/my-api-keys">My API keys</a>; delete it there to log that CLI out.
        </p>
      </div>
    );
  }

  const busy = phase.step === 'busy';
  const accounts = new Map<string, MyWorkspace[]>();
  for (const w of list) accounts.set(w.account_id, [...(accounts.get(w.account_id) ?? []), w]);

  return (
    <div className="stack">
      <p>
        Signed in as <strong>{session.user.email}</strong>.{' '}
        <button type="button" className="link-button" onClick={() => void onSignOut()} disabled={busy}>
          Not you? Sign out
        </button>
      </p>
      {workspaces.error ? (
        <p role="alert">Could not load your workspaces: {errorMessage(workspaces.error)}</p>
      ) : workspaces.data === undefined ? (
        <p className="loading">Loading…</p>
      ) : list.length === 0 ? (
        <p role="alert">You cannot reach any workspace yet, so the Prefect CLI would have nothing to use. Ask an account Owner or Admin to share one with you.</p>
      ) : (
        <>
          <p>Choose the workspace the Prefect CLI will use. Gatehouse creates a personal API key for you, which acts with your roles, and hands it to the CLI on this computer.</p>
          {[...accounts.values()].map((group) => (
            <fieldset key={group[0]!.account_id} disabled={busy}>
              <legend>{group[0]!.account_name}</legend>
              {group.map((w) => (
                <label key={w.workspace_id} className="checkbox">
                  <input type="radio" name="workspace" value={w.workspace_id} checked={selected?.workspace_id === w.workspace_id} onChange={() => setChosen(w.workspace_id)} />
                  <span className="mono">{handleOf(w)}</span>
                  {w.workspace_name !== w.workspace_handle && <span className="small">{w.workspace_name}</span>}
                </label>
              ))}
            </fieldset>
          ))}
          <p className="field-hint">
            The key never expires; it is listed in My API keys, where you can delete it.
            {list.length > 1 && ' The CLI then asks which workspace to use: choose the same one (or run prefect cloud login --workspace ACCOUNT/WORKSPACE).'}
          </p>
        </>
      )}
      <FormError message={phase.step === 'choose' ? phase.error : null} />
      <div className="row">
        {list.length > 0 && (
          <button type="button" className="primary" onClick={() => void login()} disabled={busy}>
            {busy ? 'Logging in…' : 'Log in the Prefect CLI'}
          </button>
        )}
        {cancelButton(busy)}
      </div>
    </div>
  );
}
