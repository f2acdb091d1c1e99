// Whether OpenTelemetry tracing is on: read from the settings alone, so that a process with
// tracing off never loads the SDK (tracing/tracing.ts).

import type { TracingSetting } from '../config.js';

/**
 * Whether to export traces: `on`; or `auto` when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. The SDK's own off switches (OTEL_SDK_DISABLED=true,
 * OTEL_TRACES_EXPORTER=none) win over both.
 */
export function tracingWanted(setting: TracingSetting, env: NodeJS.ProcessEnv): boolean {
  if (setting === 'off' || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.split(',').map((name) => name.trim().toLowerCase()).includes('none')) return false;
  return setting === 'on' || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}
