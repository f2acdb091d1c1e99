// What a Prefect 3 worker (`prefect worker start --pool P`, Cloud mode) and the flow-run processes
// it launches send, in order, as data for the gateway replay; and what a Worker-role key must be
// refused. Written from the requests Prefect's worker code sends (docs/worker-requests.md) and checked
// against Prefect's source at ce79dd3 (3.8.4.dev6). Paths are relative to PREFECT_API_URL and
// include the query string exactly as sent; bodies are sent as JSON.stringify(body).

export const POOL = 'replay-pool';
export const WORKER_NAME = 'ProcessWorker 5c1d0e4e-3b7a-4b43-9f1e-2b6a3c1f9d77';
export const IDS = {
  workPool: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a01',
  workQueue: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a02',
  flow: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a10',
  deployment: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a11',
  flowRun: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a12',
  taskRun: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a13',
  lease: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a14',
  blockDocument: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a22',
} as const;

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'WS';

export interface WsPlan {
  /**
   * `header`: `Authorization: bearer <key>` on the upgrade, no subprotocol, no auth message
   * (PrefectCloudEventsClient on events/in). `message`: subprotocol `prefect`, then
   * `{"type":"auth","token":"<key>"}`, answered `{"type":"auth_success"}`.
   */
  auth: 'header' | 'message';
  /** Sent after the handshake, in order. */
  messages: unknown[];
}

export interface Step {
  /** What sends it: `name (source file:function)`. */
  step: string;
  method: Method;
  path: string;
  body?: unknown;
  ws?: WsPlan;
}

export interface Refusal extends Step {
  /** The scope the request needs that the Worker role lacks. */
  needs: string;
  /** Acceptable answers: 403, or 400 for a path the gateway will not route at all. */
  statuses: number[];
}

const pending = (name: string) => ({
  state: {
    type: 'PENDING',
    name,
    message: null,
    data: null,
    state_details: { flow_run_id: IDS.flowRun, transition_id: '0c3d5f2a-6d51-4c8e-9a0b-51b7d0e3c001' },
  },
  force: false,
});

const event = (name: string, id: string) => ({
  occurred: '2026-08-21T12:00:00.000000Z',
  event: name,
  resource: { 'prefect.resource.id': `prefect.worker.process.${WORKER_NAME}`, 'prefect.resource.name': WORKER_NAME, 'prefect.version': '3.8.4', 'prefect.worker-type': 'process' },
  related: [{ 'prefect.resource.id': `prefect.work-pool.${IDS.workPool}`, 'prefect.resource.role': 'work-pool', 'prefect.resource.name': POOL }],
  payload: {},
  id,
  follows: null,
});

const log = (message: string) => ({
  name: 'prefect.flow_runs.worker',
  level: 20,
  message,
  timestamp: '2026-08-21T12:00:01.000000Z',
  flow_run_id: IDS.flowRun,
  task_run_id: null,
  worker_id: null,
});

/** Every request of a worker's life that the Worker role must let through, in order. */
export const WORKER_STEPS: Step[] = [
  // §3.1 the CLI, before the worker exists
  { step: 'is the pool paused? (cli/_worker_utils.py:_check_work_pool_paused)', method: 'GET', path: `/work_pools/${POOL}` },
  {
    step: 'are all its queues paused? (cli/_worker_utils.py:_check_work_queues_paused → client read_work_queues)',
    method: 'POST',
    path: `/work_pools/${POOL}/queues/filter`,
    body: { work_queues: null, limit: null, offset: null },
  },
  { step: 'discover the worker type (cli/_worker_utils.py:_retrieve_worker_type_from_pool)', method: 'GET', path: `/work_pools/${POOL}` },

  // §3.2 start-up: the runner's event sockets, then the REST sync (channel refused, see below)
  {
    step: 'runner event emitter connects and pings (events/clients.py:PrefectCloudEventsClient._reconnect)',
    method: 'WS',
    path: '/events/in',
    ws: { auth: 'header', messages: [] },
  },
  {
    step: 'runner cancellation observer subscribes (_internal/observers.py → events/clients.py:PrefectEventSubscriber)',
    method: 'WS',
    path: '/events/out',
    ws: {
      auth: 'message',
      messages: [{ type: 'filter', filter: { event: { name: ['prefect.flow-run.Cancelling'] }, any_resource: null, occurred: { since: '2026-08-21T11:59:00Z' } } }],
    },
  },
  { step: 'REST sync reads the pool (workers/_worker_channel/_sync.py:_sync_rest_work_pool)', method: 'GET', path: `/work_pools/${POOL}` },
  {
    step: 'REST heartbeat asking for the worker id (workers/_worker_channel/_sync.py:_send_rest_worker_heartbeat → _work_pools/client.py:send_worker_heartbeat)',
    method: 'POST',
    path: `/work_pools/${POOL}/workers/heartbeat`,
    body: { name: WORKER_NAME, heartbeat_interval_seconds: 30, return_id: true },
  },
  {
    step: 'worker started event (workers/base.py:_emit_worker_started_event)',
    method: 'WS',
    path: '/events/in',
    ws: { auth: 'header', messages: [event('prefect.worker.started', '0c3d5f2a-6d51-4c8e-9a0b-51b7d0e3c101')] },
  },

  // §3.3 loops
  {
    step: 'poll for scheduled runs (workers/base.py:_get_scheduled_flow_runs → _work_pools/client.py:get_scheduled_flow_runs_for_work_pool)',
    method: 'POST',
    path: `/work_pools/${POOL}/get_scheduled_flow_runs`,
    body: { work_queue_names: [], scheduled_before: '2026-08-21 12:00:10.000000+00:00' },
  },
  { step: 'next sync reads the pool (workers/base.py:sync_with_backend)', method: 'GET', path: `/work_pools/${POOL}` },
  {
    step: 'next REST heartbeat (workers/_worker_channel/_sync.py:_send_rest_worker_heartbeat)',
    method: 'POST',
    path: `/work_pools/${POOL}/workers/heartbeat`,
    body: { name: WORKER_NAME, heartbeat_interval_seconds: 30, return_id: true },
  },

  // §3.4 submitting one flow run
  {
    step: 'worker flow-run logger (logging/handlers.py:APILogWorker)',
    method: 'POST',
    path: '/logs/',
    body: [log(`Worker '${WORKER_NAME}' submitting flow run '${IDS.flowRun}'`)],
  },
  { step: 'is the deployment still there? (workers/base.py:_submit_run)', method: 'GET', path: `/deployments/${IDS.deployment}` },
  {
    step: 'propose Pending (workers/base.py:_propose_pending_state → utilities/engine:propose_state)',
    method: 'POST',
    path: `/flow_runs/${IDS.flowRun}/set_state`,
    body: pending('Pending'),
  },
  { step: 'job configuration: the deployment (workers/base.py:BaseJobConfiguration.from_template_and_values)', method: 'GET', path: `/deployments/${IDS.deployment}` },
  { step: 'job configuration: the flow (workers/base.py:resolve_for_flow_run)', method: 'GET', path: `/flows/${IDS.flow}` },
  { step: 'job template names a variable (utilities/templating:resolve_variables)', method: 'GET', path: '/variables/name/replay_var' },
  {
    step: 'worker labels on the run (workers/base.py:_give_worker_labels_to_flow_run)',
    method: 'PATCH',
    path: `/flow_runs/${IDS.flowRun}/labels`,
    body: { 'prefect.worker.name': WORKER_NAME, 'prefect.worker.type': 'process', 'prefect.work-pool.name': POOL, 'prefect.work-pool.id': IDS.workPool },
  },
  {
    step: 'propose Pending named Submitting (workers/base.py:_mark_flow_run_as_submitted)',
    method: 'POST',
    path: `/flow_runs/${IDS.flowRun}/set_state`,
    body: pending('Submitting'),
  },
  {
    step: 'record the process id (workers/base.py:_submit_run)',
    method: 'PATCH',
    path: `/flow_runs/${IDS.flowRun}`,
    body: { infrastructure_pid: 'replay-host:4242' },
  },

  // §3.5 the flow run's own processes (same key)
  { step: 'flow-run execute reads its run (cli/flow_run.py:execute)', method: 'GET', path: `/flow_runs/${IDS.flowRun}` },
  { step: 'resolve the code from the deployment (runner/_workspace_resolver.py)', method: 'GET', path: `/deployments/${IDS.deployment}` },
  { step: 'engine loads the run (flow_engine.py:load_flow_run)', method: 'GET', path: `/flow_runs/${IDS.flowRun}` },
  { step: 'server default result storage, tolerated if refused (results.py:get_default_result_storage)', method: 'GET', path: '/admin/storage' },
  {
    step: 'engine records version and policy (flow_engine.py:setup_run_context)',
    method: 'PATCH',
    path: `/flow_runs/${IDS.flowRun}`,
    body: { flow_version: '1a2b3c', empirical_policy: { retries: 0, retry_delay: 0, pause_keys: [], resuming: false, retry_type: null } },
  },
  {
    step: 'propose Running (flow_engine.py:set_state)',
    method: 'POST',
    path: `/flow_runs/${IDS.flowRun}/set_state`,
    body: { state: { type: 'RUNNING', name: 'Running', message: null, data: null, state_details: { flow_run_id: IDS.flowRun } }, force: false },
  },
  {
    step: 'task-run states go out as events (task_engine.py → events/worker.py)',
    method: 'WS',
    path: '/events/in',
    ws: {
      auth: 'header',
      messages: [
        { ...event('prefect.task-run.Running', '0c3d5f2a-6d51-4c8e-9a0b-51b7d0e3c102'), resource: { 'prefect.resource.id': `prefect.task-run.${IDS.taskRun}`, 'prefect.resource.name': 'say_hello-0' } },
      ],
    },
  },
  { step: 'related resources for events: flow (events/related.py:related_resources_from_run_context)', method: 'GET', path: `/flows/${IDS.flow}` },
  { step: 'related resources for events: work queue (events/related.py)', method: 'GET', path: `/work_queues/${IDS.workQueue}` },
  { step: 'related resources for events: work pool (events/related.py)', method: 'GET', path: `/work_pools/${POOL}` },
  {
    step: 'subflow parent task run (flow_engine.py:create_flow_run → client create_task_run)',
    method: 'POST',
    path: '/task_runs/',
    body: { name: 'child-flow', flow_run_id: IDS.flowRun, task_key: 'child-flow-7c1f', dynamic_key: '0', cache_key: null, task_inputs: {}, state: { type: 'PENDING', name: 'Pending' } },
  },
  {
    step: 'subflow run, no deployment, pool or job variables (flow_engine.py:create_flow_run → _flow_runs/client.py:create_flow_run)',
    method: 'POST',
    path: '/flow_runs/',
    body: {
      flow_id: IDS.flow,
      flow_version: '1a2b3c',
      name: 'child-flow-run',
      parameters: { n: 1 },
      context: {},
      tags: [],
      parent_task_run_id: IDS.taskRun,
      state: { type: 'PENDING', name: 'Pending', message: null, data: null, state_details: {} },
      empirical_policy: { retries: 0, retry_delay: 0 },
    },
  },
  {
    step: 'task run state from an older 3.x client (client/orchestration:set_task_run_state)',
    method: 'POST',
    path: `/task_runs/${IDS.taskRun}/set_state`,
    body: { state: { type: 'COMPLETED', name: 'Completed', state_details: { task_run_id: IDS.taskRun } }, force: false },
  },
  {
    step: 'deployment concurrency lease renewal (flow_engine.py:maintain_concurrency_lease)',
    method: 'POST',
    path: `/v2/concurrency_limits/leases/${IDS.lease}/renew`,
    body: { lease_duration: 300 },
  },
  { step: 'run process logs (logging/handlers.py:APILogWorker)', method: 'POST', path: '/logs/', body: [log('Hello from the replayed flow'), log('Finished in state Completed()')] },
  {
    step: 'propose Completed (flow_engine.py:handle_success)',
    method: 'POST',
    path: `/flow_runs/${IDS.flowRun}/set_state`,
    body: { state: { type: 'COMPLETED', name: 'Completed', message: null, data: null, state_details: { flow_run_id: IDS.flowRun } }, force: false },
  },

  // §3.6 cancellation polling when the observer's socket fails
  {
    step: 'cancellation poll (_internal/observers.py:FlowRunCancellingObserver._check_for_cancelled_flow_runs)',
    method: 'POST',
    path: '/flow_runs/filter',
    body: { flow_runs: { id: { any_: [IDS.flowRun] }, state: { type: { any_: ['CANCELLING'] } } }, limit: null, offset: 0, sort: 'ID_DESC' },
  },
];

/**
 * Not sent by a worker (the Python client always asks for secrets), but the same route as the
 * refusals below with secrets not asked for: proves the refusal comes from `include_secrets`.
 */
export const CONTROL_STEPS: Step[] = [
  { step: 'read a block without secrets (control for the include_secrets refusals)', method: 'GET', path: `/block_documents/${IDS.blockDocument}?include_secrets=false` },
  { step: 'filter block documents without secrets (control)', method: 'POST', path: '/block_documents/filter', body: { include_secrets: false, limit: 10 } },
];

/**
 * The worker channel. The Worker role lacks write_work_pools, which its hello frame can exercise
 * (create_pool_if_not_found, an empty base_job_template), so the gateway refuses it and the
 * worker falls back to REST for good (workers/_worker_channel/_transport.py classifies 401/403/404
 * and a 1008 close as terminal).
 */
export const WORKER_CHANNEL: Refusal = {
  step: 'worker channel handshake (workers/_worker_channel/_sync.py:WorkPoolWorkerChannel.sync → _protocol.py:handshake)',
  method: 'WS',
  path: `/work_pools/${POOL}/workers/connect`,
  ws: {
    auth: 'message',
    messages: [
      {
        type: 'worker.hello.v1',
        id: '0c3d5f2a-6d51-4c8e-9a0b-51b7d0e3c201',
        sent_at: '2026-08-21T12:00:00Z',
        payload: {
          consumer_id: '0c3d5f2a-6d51-4c8e-9a0b-51b7d0e3c202',
          worker_name: WORKER_NAME,
          worker_type: 'process',
          heartbeat_interval_seconds: 30,
          supported_channel_versions: ['v1'],
          requested_capabilities: ['worker.heartbeat', 'work_pool.snapshot'],
          work_queue_names: [],
          handled_cleanup_kinds: [],
          max_cleanup_concurrency: 0,
          create_pool_if_not_found: true,
          default_base_job_template: { job_configuration: { command: '{{ command }}' }, variables: { type: 'object', properties: {} } },
          worker_metadata: null,
        },
      },
    ],
  },
  needs: 'write_work_pools',
  statuses: [403, 404],
};

/** Requests a Worker-role key must never get to the upstream. */
export const WORKER_REFUSALS: Refusal[] = [
  {
    step: 'create a deployment (client create_deployment; `prefect deploy`)',
    method: 'POST',
    path: '/deployments/',
    body: { name: 'sneaky', flow_id: IDS.flow, work_pool_name: POOL },
    needs: 'write_deployments',
    statuses: [403],
  },
  {
    step: 'create a deployment through an encoded slash (uvicorn routes the decoded path)',
    method: 'POST',
    path: '/deployments%2F',
    body: { name: 'sneaky', flow_id: IDS.flow },
    needs: 'write_deployments',
    statuses: [400, 403],
  },
  {
    step: 'a job template or deployment storage names a block; the client always asks for secrets (utilities/templating → _blocks_documents/client.py:read_block_document)',
    method: 'GET',
    path: `/block_documents/${IDS.blockDocument}?include_secrets=true`,
    needs: 'see_secret_blocks',
    statuses: [403],
  },
  {
    step: 'read a block by slug and name with secrets, Python-cased (_blocks_documents/client.py:read_block_document_by_name)',
    method: 'GET',
    path: '/block_types/slug/x/block_documents/name/y?include_secrets=True',
    needs: 'see_secret_blocks',
    statuses: [403],
  },
  {
    step: 'secrets asked for with a lax-bool spelling',
    method: 'GET',
    path: `/block_documents/${IDS.blockDocument}?include_secrets=yes`,
    needs: 'see_secret_blocks',
    statuses: [403],
  },
  {
    step: 'secrets asked for by the last of a repeated parameter (Starlette keeps the last)',
    method: 'GET',
    path: `/block_documents/${IDS.blockDocument}?include_secrets=false&include_secrets=1`,
    needs: 'see_secret_blocks',
    statuses: [403],
  },
  {
    step: 'filter block documents with secrets in the body',
    method: 'POST',
    path: '/block_documents/filter',
    body: { include_secrets: true },
    needs: 'see_secret_blocks',
    statuses: [403],
  },
  {
    step: 'create the missing pool (workers/_worker_channel/_sync.py:_sync_rest_work_pool, create_pool_if_not_found)',
    method: 'POST',
    path: '/work_pools/',
    body: { name: POOL, type: 'process' },
    needs: 'write_work_pools',
    statuses: [403],
  },
  {
    step: 'fill an empty base job template (workers/_worker_channel/_sync.py:_set_work_pool_template)',
    method: 'PATCH',
    path: `/work_pools/${POOL}`,
    body: { base_job_template: { job_configuration: {}, variables: {} } },
    needs: 'write_work_pools',
    statuses: [403],
  },
  { step: 'delete a flow', method: 'DELETE', path: `/flows/${IDS.flow}`, needs: 'manage_flows', statuses: [403] },
  {
    step: 'start a deployment run (deployments/flow_runs.py:run_deployment)',
    method: 'POST',
    path: `/deployments/${IDS.deployment}/create_flow_run`,
    body: { state: { type: 'SCHEDULED' } },
    needs: 'run_deployments',
    statuses: [403],
  },
  {
    step: 'a run of any deployment on any pool with its own command (issue 14 finding 1: FlowRunCreate takes deployment_id, a pool, job variables)',
    method: 'POST',
    path: '/flow_runs/',
    body: { flow_id: IDS.flow, deployment_id: IDS.deployment, work_pool_name: POOL, work_queue_name: 'default', job_variables: { command: 'sh -c id', env: { A: '1' } }, state: { type: 'SCHEDULED' } },
    needs: 'run_deployments',
    statuses: [403],
  },
  {
    step: "new job variables for a scheduled deployment run (FlowRunUpdate.job_variables, laid over the deployment's by the worker)",
    method: 'PATCH',
    path: `/flow_runs/${IDS.flowRun}`,
    body: { job_variables: { command: 'sh -c id' } },
    needs: 'run_deployments',
    statuses: [403],
  },
  {
    step: 'new parameters for a deployment run (FlowRunUpdate.parameters)',
    method: 'PATCH',
    path: `/flow_runs/${IDS.flowRun}`,
    body: { parameters: { x: 1 } },
    needs: 'run_deployments',
    statuses: [403],
  },
  {
    step: 'send a run back to its worker (a SCHEDULED state; the opt-in SIGTERM reschedule of runner.py sends one too)',
    method: 'POST',
    path: `/flow_runs/${IDS.flowRun}/set_state`,
    body: { state: { type: 'SCHEDULED', name: 'AwaitingRetry' }, force: true },
    needs: 'run_deployments',
    statuses: [403],
  },
];
