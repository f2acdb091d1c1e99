// A small keep-alive JSON client for setup and the control-plane scenario: one agent, so sequential
// calls reuse one connection, as a script or the Terraform provider would.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Sends one request; resolves { status, body (parsed JSON or text), headers }. */
export function call(baseUrl, method, path, { key, body, headers = {} } = {}) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let parsed = raw.toString('utf8');
          try {
            parsed = raw.length ? JSON.parse(parsed) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode, body: parsed, raw, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Like call(), but throws unless the status is `expected`. */
export async function expectCall(expected, baseUrl, method, path, options) {
  const res = await call(baseUrl, method, path, options);
  if (res.status !== expected) {
    const detail = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    throw new Error(`${method} ${path} answered ${res.status}, expected ${expected}: ${detail}`);
  }
  return res;
}

export function closeClient() {
  agent.destroy();
}
