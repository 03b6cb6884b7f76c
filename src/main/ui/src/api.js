// The gateway's API as the UI calls it. The admin key lives in this tab's sessionStorage only: it is gone when the
// tab closes and is never written anywhere else.
const KEY = 'pekko-llm-admin-key';

export const auth = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (k) => (k ? sessionStorage.setItem(KEY, k) : sessionStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(status, message, param, code) {
    super(message);
    this.status = status;
    this.param = param;
    this.code = code;
  }
}

/** Calls the gateway; resolves the JSON answer, rejects an ApiError with the gateway's message. */
export async function api(method, path, body) {
  const headers = {};
  const key = auth.get();
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'the gateway cannot be reached: ' + e.message);
  }
  const text = await resp.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (!resp.ok) {
    const err = json && json.error ? json.error : {};
    throw new ApiError(resp.status, err.message || resp.status + ' ' + resp.statusText, err.param, err.code);
  }
  return json;
}

/** Marks a timing for the README's measurements (read by the browser tests). */
export function timing(name, ms) {
  (window.__uiTimings = window.__uiTimings || []).push({ name, ms: Math.round(ms * 10) / 10 });
}
