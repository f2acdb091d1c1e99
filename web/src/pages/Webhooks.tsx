// The account's webhooks (Owners and Admins): endpoints told of keys expiring, expired, rotated,
// leaked or disabled, service accounts removed and IP allowlist changes; each with its signing secret
// shown once at creation, a test send and the log of its last delivery attempts.
import { useState, type FormEvent } from 'react';
import { api, errorMessage, type Webhook, type WebhookAttempt } from '../api';
import { CopyField } from '../components/CopyField';
import { Field, FormError } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PageState } from '../components/PageState';
import { useStatus } from '../components/Status';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { formatDateTime } from '../format';
import { useChange, useLoad } from '../hooks';

type EventType = Webhook['event_types'][number];

const EVENTS: { type: EventType; label: string }[] = [
  { type: 'api_key.expiring', label: 'A key expires in 30, 7 or 1 days' },
  { type: 'api_key.expired', label: 'A key expired' },
  { type: 'api_key.rotated', label: 'A key was rotated' },
  { type: 'api_key.grace_ended', label: "An old key's rotation grace ended" },
  { type: 'service_account.removed', label: 'A service account was removed' },
  { type: 'api_key.disabled_dormant', label: 'A key was disabled for dormancy' },
  { type: 'api_key.leak_reported', label: 'A key was reported leaked' },
  { type: 'ip_allowlist.changed', label: 'The IP allowlist changed' },
];

export function WebhooksPage() {
  const { account, can } = useAccount();
  const status = useStatus();
  const a = account.account_id;
  const allowed = can('read:integrations');
  const editable = can('update:integrations');
  const { data, error, reload } = useLoad(async () => (allowed ? api.webhooks(a) : null), [a, allowed]);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<Set<EventType>>(new Set(EVENTS.map((e) => e.type)));
  const { busy, setBusy, problem, setProblem, change } = useChange(reload, (message) => status.success(message));
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [logFor, setLogFor] = useState<string | null>(null);
  const [logVersion, setLogVersion] = useState(0);

  if (!allowed) {
    return (
      <div>
        <PageHeader id="webhooks-title" title="Webhooks" />
        <p>Only account Owners and Admins see and change the account's webhooks.</p>
      </div>
    );
  }


  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (!url.trim()) return setProblem('Enter the URL to send notices to, such as https://hooks.example.com/gatehouse.');
    if (events.size === 0) return setProblem('Choose at least one notice to send.');
    let created: { url: string; secret: string } | null = null;
    const ok = await change(async () => {
      const answer = await api.createWebhook(a, { url: url.trim(), description: description.trim() || null, event_types: [...events] });
      created = { url: answer.url, secret: answer.secret };
    }, `Added the webhook to ${url.trim()}.`);
    if (ok) {
      setSecret(created);
      setUrl('');
      setDescription('');
    }
  };

  const sendTest = async (hook: Webhook) => {
    setBusy(true);
    setProblem(null);
    try {
      const result = await api.testWebhook(a, hook.id);
      if (result.delivered) status.success(`Test delivered to ${hook.url}: HTTP ${result.status_code} in ${result.duration_ms} ms.`);
      else status.info(`Test not delivered to ${hook.url}: ${result.error}. It is tried again later.`);
      setLogFor(hook.id);
      setLogVersion((v) => v + 1);
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const hooks = data ?? [];
  return (
    <div>
      <PageHeader id="webhooks-title" title="Webhooks" />
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        <p>
          Gatehouse POSTs a signed JSON notice (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>,{' '}
          <code>webhook-signature</code>) to each enabled endpoint for the events it takes, and retries a failed delivery with backoff.
          The account's Owners are also mailed when the server has SMTP.
        </p>
        {secret && (
          <div className="key-reveal" data-testid="webhook-secret">
            <p className="warning" role="note">
              <strong>Copy this signing secret now.</strong> It cannot be shown again. The receiver at {secret.url} checks each notice's signature with it.
            </p>
            <CopyField label="Signing secret" value={secret.secret} copyLabel="Copy signing secret" what="Signing secret" testId="webhook-secret-value" />
            <button type="button" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        )}
        <FormError message={problem} />
        <DataTable
          label="Webhooks"
          testId="webhooks"
          columns={['URL', 'Notices', 'Enabled', { hidden: 'Actions' }]}
          rows={hooks}
          empty="No webhooks yet."
          row={(hook) => (
            <tr key={hook.id} data-testid="webhook-row" data-url={hook.url}>
              <td>
                <code>{hook.url}</code>
                {hook.description && <div className="muted">{hook.description}</div>}
              </td>
              <td>{hook.event_types.length === EVENTS.length ? 'All' : hook.event_types.join(', ')}</td>
              <td>{hook.enabled ? 'Yes' : 'No'}</td>
              <td>
                {editable && (
                  <>
                    <button type="button" disabled={busy} aria-label={`Send a test to ${hook.url}`} onClick={() => void sendTest(hook)}>
                      Send test
                    </button>{' '}
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`${hook.enabled ? 'Disable' : 'Enable'} ${hook.url}`}
                      onClick={() => void change(() => api.updateWebhook(a, hook.id, { enabled: !hook.enabled }), `${hook.url} ${hook.enabled ? 'disabled' : 'enabled'}.`)}
                    >
                      {hook.enabled ? 'Disable' : 'Enable'}
                    </button>{' '}
                  </>
                )}
                <button type="button" aria-label={`Delivery log of ${hook.url}`} aria-expanded={logFor === hook.id} onClick={() => setLogFor(logFor === hook.id ? null : hook.id)}>
                  Log
                </button>{' '}
                {editable && (
                  <button
                    type="button"
                    className="danger-text"
                    disabled={busy}
                    aria-label={`Remove ${hook.url}`}
                    onClick={() => void change(() => api.removeWebhook(a, hook.id), `Removed the webhook to ${hook.url}.`)}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          )}
        />
        {logFor && hooks.some((h) => h.id === logFor) && <DeliveryLog accountId={a} hook={hooks.find((h) => h.id === logFor)!} version={logVersion} />}
        {editable && (
          <form onSubmit={(e) => void add(e)} aria-labelledby="webhook-add">
            <h2 id="webhook-add">Add a webhook</h2>
            <Field label="URL" value={url} onChange={setUrl} placeholder="https://hooks.example.com/gatehouse" hint="http:// or https://; Gatehouse sends from its own host, so your network rules apply." />
            <Field label="Description" value={description} onChange={setDescription} placeholder="Ops pager" />
            <fieldset>
              <legend>Notices</legend>
              {EVENTS.map((e) => (
                <div className="checkbox" key={e.type}>
                  <input
                    id={`event-${e.type}`}
                    type="checkbox"
                    checked={events.has(e.type)}
                    onChange={(ev) => {
                      const next = new Set(events);
                      if (ev.target.checked) next.add(e.type);
                      else next.delete(e.type);
                      setEvents(next);
                    }}
                  />
                  <label htmlFor={`event-${e.type}`}>
                    {e.label} <code className="muted">{e.type}</code>
                  </label>
                </div>
              ))}
            </fieldset>
            <button type="submit" className="primary" disabled={busy}>
              Add webhook
            </button>
          </form>
        )}
      </PageState>
    </div>
  );
}

function DeliveryLog({ accountId, hook, version }: { accountId: string; hook: Webhook; version: number }) {
  const { data, error, reload } = useLoad(() => api.webhookAttempts(accountId, hook.id), [accountId, hook.id, hook.updated, version]);
  return (
    <section aria-labelledby="webhook-log-title" className="webhook-log">
      <h2 id="webhook-log-title">Delivery log: {hook.url}</h2>
      <button type="button" onClick={() => void reload()}>
        Refresh
      </button>
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        <DataTable<WebhookAttempt>
          label="Delivery attempts"
          testId="webhook-log"
          columns={['When', 'Notice', 'Result', 'Time', 'Delivery']}
          rows={data ?? []}
          empty="No delivery attempts yet."
          row={(at) => (
            <tr key={at.id} data-testid="webhook-attempt">
              <td>{formatDateTime(at.attempted_at)}</td>
              <td>
                <code>{at.event_type}</code>
              </td>
              <td className={at.error ? 'error' : undefined}>{at.error ?? `HTTP ${at.status_code}`}</td>
              <td>{at.duration_ms} ms</td>
              <td>{at.delivery_status}</td>
            </tr>
          )}
        />
      </PageState>
    </section>
  );
}
