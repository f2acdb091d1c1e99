// The account's audit log, newest first, filtered by action, actor and time, a page at a time.
import { useId, useState, type FormEvent } from 'react';
import { api, type Membership, type Workspace } from '../api';
import { PageState } from '../components/PageState';
import { useAccount } from '../context';
import { formatDateTime, localDateTimeToIso, personName } from '../format';
import { useLoad } from '../hooks';
import { refusalSummary } from '../audit-words';

const PAGE_SIZE = 50;

const KNOWN_ACTIONS = [
  'account.created',
  'account.key_policy_updated',
  'account.updated',
  'account_membership.removed',
  'account_membership.role_changed',
  'gateway.request_refused',
  'invitation.accepted',
  'invitation.created',
  'invitation.revoked',
  'ip_allowlist.updated',
  'service_account.api_key_deleted',
  'service_account.api_key_disabled',
  'service_account.api_key_expired',
  'service_account.api_key_expiring',
  'service_account.api_key_grace_ended',
  'service_account.api_key_rotated',
  'service_account.created',
  'service_account.deleted',
  'service_account.updated',
  'session.terminated',
  'user.password_changed',
  'user.signed_in',
  'user.signed_out',
  'user.updated',
  'user_api_key.created',
  'user_api_key.deleted',
  'webhook.created',
  'webhook.deleted',
  'webhook.test_sent',
  'webhook.updated',
  'workspace.created',
  'workspace.deleted',
  'workspace.updated',
  'workspace_role.created',
  'workspace_role.deleted',
  'workspace_role.updated',
];

interface Filters {
  action: string;
  actorId: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { action: '', actorId: '', from: '', to: '' };

function filterBody(f: Filters): Record<string, unknown> {
  const actions = f.action
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const occurred = { after_: localDateTimeToIso(f.from), before_: localDateTimeToIso(f.to) };
  return {
    audit_events: {
      action: actions.length ? { any_: actions } : null,
      actor_id: f.actorId ? { any_: [f.actorId] } : null,
      occurred: occurred.after_ || occurred.before_ ? occurred : null,
    },
  };
}

export function AuditLogPage() {
  const { account, can } = useAccount();
  const a = account.account_id;
  const ids = useId();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [offset, setOffset] = useState(0);
  const [filterError, setFilterError] = useState<string | null>(null);

  const lookups = useLoad(
    async () => {
      const [members, workspaces] = await Promise.all([api.memberships(a).catch(() => [] as Membership[]), api.workspaces(a).catch(() => [] as Workspace[])]);
      return { members, workspaces };
    },
    [a],
  );
  const events = useLoad(
    // One row more than a page tells whether a next page exists.
    () => (can('read:audit_event') ? api.auditEvents(a, { ...filterBody(applied), limit: PAGE_SIZE + 1, offset }) : Promise.resolve([])),
    [a, applied, offset],
  );

  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (draft.from && draft.to && draft.from >= draft.to) {
      setFilterError('"From" must be earlier than "To".');
      return;
    }
    setFilterError(null);
    setApplied({ ...draft });
    setOffset(0);
  };

  const clear = () => {
    setDraft(EMPTY);
    setApplied(EMPTY);
    setOffset(0);
    setFilterError(null);
  };

  if (!can('read:audit_event')) {
    return (
      <section>
        <h1>Audit log</h1>
        <p>Only account Owners and Admins can read the audit log.</p>
      </section>
    );
  }

  const rows = events.data?.slice(0, PAGE_SIZE) ?? [];
  const hasNext = (events.data?.length ?? 0) > PAGE_SIZE;
  const workspaceName = (id: string | null) => (id ? lookups.data?.workspaces.find((w) => w.id === id)?.name ?? id : '');
  const page = Math.floor(offset / PAGE_SIZE) + 1;

  return (
    <section aria-labelledby="audit-heading">
      <h1 id="audit-heading">Audit log</h1>
      <form className="filters" onSubmit={apply} aria-label="Audit log filters">
        <div className="field">
          <label htmlFor={`${ids}-action`}>Action</label>
          <input
            id={`${ids}-action`}
            list={`${ids}-actions`}
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
            placeholder="e.g. service_account.created, workspace.created"
            aria-describedby={`${ids}-action-hint`}
          />
          <datalist id={`${ids}-actions`}>
            {KNOWN_ACTIONS.map((x) => (
              <option key={x} value={x} />
            ))}
          </datalist>
          <p id={`${ids}-action-hint`} className="sr-only">
            Separate several actions with commas.
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-actor`}>Actor</label>
          <select id={`${ids}-actor`} value={draft.actorId} onChange={(e) => setDraft({ ...draft, actorId: e.target.value })}>
            <option value="">Anyone</option>
            {(lookups.data?.members ?? []).map((m) => (
              <option key={m.id} value={m.actor_id}>
                {m.bot_id ? `${m.first_name} (service account)` : `${personName(m)}${m.email && personName(m) !== m.email ? ` (${m.email})` : ''}`}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-from`}>From</label>
          <input id={`${ids}-from`} type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-to`}>To</label>
          <input id={`${ids}-to`} type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </div>
        <div className="field field-button">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button type="button" onClick={clear}>
            Clear filters
          </button>
        </div>
      </form>
      {filterError && (
        <p className="form-error" role="alert">
          {filterError}
        </p>
      )}
      <PageState ready={events.data !== undefined} error={events.error} onRetry={() => void events.reload()}>
        {rows.length === 0 ? (
          <p className="empty">No events{offset > 0 ? ' on this page' : ' match these filters'}.</p>
        ) : (
          <div className="table-scroll">
            <table aria-label="Audit events">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Workspace</th>
                  <th scope="col">Details</th>
                  <th scope="col">Request id</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((ev) => (
                  <tr key={ev.id} data-testid="audit-row" data-action={ev.action}>
                    <td>{formatDateTime(ev.occurred)}</td>
                    <td>
                      {ev.actor_name ?? ev.actor_id ?? (ev.actor_type === 'anonymous' ? 'anonymous' : 'system')}
                      <span className="muted small"> {ev.actor_type}</span>
                    </td>
                    <td>
                      <span className="mono">{ev.action}</span>
                      {ev.action === 'gateway.request_refused' && <div className="small">{refusalSummary(ev.details ?? {})}</div>}
                    </td>
                    <td>
                      {ev.target_type}
                      {ev.target_id && <span className="mono small muted"> {ev.target_id}</span>}
                    </td>
                    <td>{workspaceName(ev.workspace_id)}</td>
                    <td className="details-cell">
                      {Object.keys(ev.details ?? {}).length > 0 && (
                        <details>
                          <summary>
                            Details<span className="sr-only"> of {ev.action}</span>
                          </summary>
                          <pre className="mono small">{JSON.stringify(ev.details, null, 2)}</pre>
                        </details>
                      )}
                    </td>
                    <td className="mono small">{ev.request_id}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav className="pager" aria-label="Audit log pages">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            Previous page
          </button>
          <span aria-live="polite">Page {page}</span>
          <button type="button" disabled={!hasNext} onClick={() => setOffset(offset + PAGE_SIZE)}>
            Next page
          </button>
        </nav>
      </PageState>
    </section>
  );
}
