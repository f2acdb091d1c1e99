// Request bodies: JSON only. An empty body is "no body" (Terraform sends empty filter bodies);
// anything that is not JSON is a 400 that says where it broke.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/([a-z0-9.+-]*\+)?json$/i, { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      // The parser's own message can quote the body, which may hold a secret: keep the position only.
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      const where = position ? ` (near character ${position})` : '';
      done(new HttpError('INVALID_JSON', `The request body is not valid JSON${where}; send a JSON object`), undefined);
    }
  });
  // Any other declared type: refuse rather than guess, unless the body is empty.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    if (String(body).trim() === '') return done(null, undefined);
    done(new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as JSON with Content-Type: application/json'), undefined);
  });
}
