// What request logs may show of a URL: a one-time code, setup token or API key sent in a query
// string (the invitation and setup links, a client that puts its key there) is replaced by a marker.
import pino, { type SerializedError } from 'pino';
import type { FastifyRequest } from 'fastify';

export const REDACTED = '[redacted]';

/** A query parameter: its name (with what precedes it) and its value. Linear: no nested repetition. */
const PARAM = /([?&;][^=&#\s?;]*=)([^&#\s"';]*)/g;
/** A parameter name that says it carries a credential. */
const SECRET_NAME = /code|token|key|secret|password|passwd|signature|session|auth/i;
/** A Gatehouse API key wherever it appears (the same shape secret scanners match). */
const API_KEY = /pn[bu]_[A-Za-z0-9]{36}/g;

/** The text with credential-bearing query values and API keys replaced by [redacted]. */
export function redactSecrets(text: string): string {
  if (!text.includes('=') && !text.includes('pn')) return text;
  return text.replace(PARAM, (whole, name: string) => (SECRET_NAME.test(name) ? `${name}${REDACTED}` : whole)).replace(API_KEY, REDACTED);
}

/** Serializers for the request logger: Fastify's fields, with the URL and error texts redacted. */
export const logSerializers = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: redactSecrets(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    };
  },
  err(error: Error): SerializedError {
    const serialized = pino.stdSerializers.err(error);
    if (typeof serialized.message === 'string') serialized.message = redactSecrets(serialized.message);
    if (typeof serialized.stack === 'string') serialized.stack = redactSecrets(serialized.stack);
    return serialized;
  },
};
