// Small pieces shared by the views.
const COLORS = ['#2563eb', '#7c3aed', '#db2777', '#ea580c', '#16a34a', '#0891b2', '#4f46e5', '#b45309'];

export function Initial({ name }) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return <span class="initial" style={{ background: COLORS[h % COLORS.length] }} aria-hidden="true">
    {name.charAt(0).toUpperCase()}</span>;
}

export const CATEGORY = { popular_cloud: 'Popular cloud', enterprise: 'Enterprise', local: 'Local / self-hosted',
  custom: 'Custom' };

export function Badge({ kind, children }) {
  return <span class={'badge ' + kind}>{children}</span>;
}

/** Breaker state, error rate and latency of one running provider. */
export function Status({ status, enabled }) {
  if (!enabled) return <span class="status off" data-testid="status">not running</span>;
  if (!status) return <span class="status unknown" data-testid="status">no status</span>;
  const rate = Math.round((status.recent_error_rate || 0) * 100);
  const cls = status.breaker === 'open' ? 'bad' : status.breaker === 'half-open' || rate >= 20 ? 'warn' : 'good';
  const latency = status.latency_p50_ms != null ? Math.round(status.latency_p50_ms) + ' ms p50' : 'no calls yet';
  return <span class={'status ' + cls} data-testid="status" title={status.last_error || ''}>
    breaker {status.breaker} · {rate}% errors · {latency}</span>;
}

export function ErrorBox({ error, retry }) {
  return <div class="error" role="alert">{error}{retry && <button class="small" onClick={retry}>Retry</button>}</div>;
}

export function Spinner({ label }) {
  return <div class="loading" role="status"><span class="spinner" />{label}</div>;
}
