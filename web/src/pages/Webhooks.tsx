// The account's webhooks (Owners and Admins): endpoints told of keys expiring, expired, rotated,
// leaked or disabled, service accounts removed and IP allowlist changes; each with its signing secret
// shown once at creation, a test send and the log of its last delivery attempts.
import { useState } from 'react';
import { api, type Webhook, type WebhookAttempt } from '../api';
import { ActionButton, EnableButton } from '../components/ActionButton';
import { Checkbox, Field, FormError } from '../components/Field';
import { SecretReveal } from '../components/KeyReveal';
import { PageForm } from '../components/PageForm';
import { LoadedPage, WhenLoaded } from '../components/PageState';
import { useStatus } from '../components/Status';
import { CodeCell, DataTable } from '../components/Table';
import { formatDateTime } from '../format';
import { useAccountPage, useLoad } from '../hooks';

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
  const status = useStatus();
  const { a, can, allowed, loaded, busy, problem, setProblem, attempt, change } = useAccountPage('read:integrations', api.webhooks);
  const editable = can('update:integrations');
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<Set<EventType>>(new Set(EVENTS.map((e) => e.type)));
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [logFor, setLogFor] = useState<string | null>(null);
  const [logVersion, setLogVersion] = useState(0);

  const add = async () => {
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

  const sendTest = (hook: Webhook) =>
    attempt(async () => {
      const result = await api.testWebhook(a, hook.id);
      if (result.delivered) status.success(`Test delivered to ${hook.url}: HTTP ${result.status_code} in ${result.duration_ms} ms.`);
      else status.info(`Test not delivered to ${hook.url}: ${result.error}. It is tried again later.`);
      setLogFor(hook.id);
      setLogVersion((v) => v + 1);
    });

  const toggle = (type: EventType, on: boolean) => {
    const next = new Set(events);
    if (on) next.add(type);
    else next.delete(type);
    setEvents(next);
  };

  return (
    <LoadedPage id="webhooks-title" title="Webhooks" denied={!allowed && "Only account Owners and Admins see and change the account's webhooks."} loaded={loaded}>
      {(hooks) => (
        <>
          <p>
            Gatehouse POSTs a signed JSON notice (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>,{' '}
            <code>webhook-signature</code>) to each enabled endpoint for the events it takes, and retries a failed delivery with backoff.
            The account's Owners are also mailed when the server has SMTP.
          </p>
          {secret && (
            <SecretReveal
              label="Signing secret"
              noun="signing secret"
              value={secret.secret}
              copyLabel="Copy signing secret"
              testId="webhook-secret"
              valueTestId="webhook-secret-value"
              onDone={() => setSecret(null)}
            >
              The receiver at {secret.url} checks each notice's signature with it.
            </SecretReveal>
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
                      <ActionButton label={`Send a test to ${hook.url}`} disabled={busy} onClick={() => void sendTest(hook)}>
                        Send test
                      </ActionButton>{' '}
                      <EnableButton name={hook.url} enabled={hook.enabled} busy={busy} change={change} toggle={() => api.updateWebhook(a, hook.id, { enabled: !hook.enabled })} />{' '}
                    </>
                  )}
                  <button type="button" aria-label={`Delivery log of ${hook.url}`} aria-expanded={logFor === hook.id} onClick={() => setLogFor(logFor === hook.id ? null : hook.id)}>
                    Log
                  </button>{' '}
                  {editable && (
                    <ActionButton danger label={`Remove ${hook.url}`} disabled={busy} onClick={() => void change(() => api.removeWebhook(a, hook.id), `Removed the webhook to ${hook.url}.`)}>
                      Remove
                    </ActionButton>
                  )}
                </td>
              </tr>
            )}
          />
          {logFor && hooks.some((h) => h.id === logFor) && <DeliveryLog accountId={a} hook={hooks.find((h) => h.id === logFor)!} version={logVersion} />}
          {editable && (
            <PageForm id="webhook-add" title="Add a webhook" onSubmit={add} busy={busy} submitLabel="Add webhook">
              <Field label="URL" value={url} onChange={setUrl} placeholder="https://hooks.example.com/gatehouse" hint="http:// or https://; Gatehouse sends from its own host, so your network rules apply." />
              <Field label="Description" value={description} onChange={setDescription} placeholder="Ops pager" />
              <fieldset>
                <legend>Notices</legend>
                {EVENTS.map((e) => (
                  <Checkbox
                    key={e.type}
                    label={
                      <>
                        {e.label} <code className="muted">{e.type}</code>
                      </>
                    }
                    checked={events.has(e.type)}
                    onChange={(on) => toggle(e.type, on)}
                  />
                ))}
              </fieldset>
            </PageForm>
          )}
        </>
      )}
    </LoadedPage>
  );
}

function DeliveryLog({ accountId, hook, version }: { accountId: string; hook: Webhook; version: number }) {
  const attempts = useLoad(() => api.webhookAttempts(accountId, hook.id), [accountId, hook.id, hook.updated, version]);
  return (
    <section aria-labelledby="webhook-log-title" className="webhook-log">
      <h2 id="webhook-log-title">Delivery log: {hook.url}</h2>
      <button type="button" onClick={() => void attempts.reload()}>
        Refresh
      </button>
      <WhenLoaded loaded={attempts}>
        {(rows) => (
          <DataTable<WebhookAttempt>
            label="Delivery attempts"
            testId="webhook-log"
            columns={['When', 'Notice', 'Result', 'Time', 'Delivery']}
            rows={rows}
            empty="No delivery attempts yet."
            row={(at) => (
              <tr key={at.id} data-testid="webhook-attempt">
                <td>{formatDateTime(at.attempted_at)}</td>
                <CodeCell>{at.event_type}</CodeCell>
                <td className={at.error ? 'error' : undefined}>{at.error ?? `HTTP ${at.status_code}`}</td>
                <td>{at.duration_ms} ms</td>
                <td>{at.delivery_status}</td>
              </tr>
            )}
          />
        )}
      </WhenLoaded>
    </section>
  );
}
