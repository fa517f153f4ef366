//! Observability: a request id on every request (taken from `X-Request-Id` or made here, and
//! echoed back), one structured (JSON) log line per request on stderr, and Prometheus metrics
//! at `/metrics` (requests by route and status, latency histogram, signatures by result).
//!
//! Never logs bodies, headers with credentials, or query strings (they may carry tokens).

use crate::error::{ErrorCode, InternalError};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The request id, available to handlers as an extension.
#[derive(Clone)]
pub struct RequestId(pub String);

/// Latency buckets in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The server's own counters and latency histograms, shown at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    signatures_ok: AtomicU64,
    signatures_failed: AtomicU64,
    in_flight: AtomicU64,
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    /// The `q` quantile, interpolated linearly inside its bucket (cumulative bucket counts).
    fn quantile(&self, q: f64) -> f64 {
        let rank = q * self.count as f64;
        let mut lower = 0.0;
        let mut below = 0u64;
        for (i, upper) in BUCKETS.iter().enumerate() {
            let cumulative = self.counts[i];
            if cumulative as f64 >= rank {
                let inside = cumulative.saturating_sub(below);
                if inside == 0 {
                    return *upper;
                }
                return lower + (upper - lower) * (rank - below as f64) / inside as f64;
            }
            lower = *upper;
            below = cumulative;
        }
        lower
    }
}

/// Routes that sign documents for officials (the dashboard's signing latency).
fn is_signing_route(route: &str) -> bool {
    route.contains("/sign/") || route.ends_with("/tandatangani") || route == "/api/v1/documents"
}

/// The authenticated client's name, for the request log.
#[derive(Clone)]
pub struct ClientName(pub String);

impl sahih_core::pipeline::SignatureCounter for Metrics {
    fn signatures(&self, result: sahih_core::pipeline::SignatureResult, n: u64) {
        use sahih_core::pipeline::SignatureResult;
        let counter = match result {
            SignatureResult::Made => &self.signatures_ok,
            SignatureResult::Failed => &self.signatures_failed,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_string()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// Median and 95th percentile (seconds) and the count of signing requests served so far
    /// by this server, estimated from the latency histograms as Prometheus'
    /// `histogram_quantile` does (linear within a bucket). None before the first one.
    pub fn signing_latency(&self) -> Option<(f64, f64, u64)> {
        let l = self.latency.lock().ok()?;
        let mut total = Histogram::default();
        for (_, h) in l.iter().filter(|(route, _)| is_signing_route(route)) {
            for (t, c) in total.counts.iter_mut().zip(h.counts) {
                *t += c;
            }
            total.count += h.count;
            total.sum += h.sum;
        }
        if total.count == 0 {
            return None;
        }
        Some((total.quantile(0.5), total.quantile(0.95), total.count))
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        out.push_str("# HELP sahih_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE sahih_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "sahih_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP sahih_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE sahih_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let r = escape(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "sahih_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "sahih_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "sahih_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "sahih_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    h.count
                );
            }
        }
        out.push_str(
            "# HELP sahih_signatures_total Documents signed through the APIs, by result.\n",
        );
        out.push_str("# TYPE sahih_signatures_total counter\n");
        let _ = writeln!(
            out,
            "sahih_signatures_total{{result=\"ok\"}} {}",
            self.signatures_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "sahih_signatures_total{{result=\"failed\"}} {}",
            self.signatures_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP sahih_http_in_flight Requests being served.\n");
        out.push_str("# TYPE sahih_http_in_flight gauge\n");
        let _ = writeln!(
            out,
            "sahih_http_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn new_request_id() -> String {
    let mut b = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Accepts a caller's id only when it is short and printable (it goes into logs).
fn usable_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
    .then(|| s.to_string())
}

/// Middleware: a request id for every request, one JSON log line, and the metrics.
pub async fn middleware(
    State(state): State<crate::Shared>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(usable_id)
        .unwrap_or_else(new_request_id);
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    // The TCP peer (behind a reverse proxy: the proxy), so failed logins can be traced.
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut response = next.run(req).await;
    state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let status = response.status().as_u16();
    let elapsed = start.elapsed().as_secs_f64();
    state.metrics.observe(&method, &route, status, elapsed);
    let client = response
        .extensions()
        .get::<ClientName>()
        .map(|c| c.0.clone());
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    let internal = response
        .extensions()
        .get::<InternalError>()
        .map(|c| c.0.clone());
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let line = serde_json::json!({
        "ts": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "level": if status >= 500 { "error" } else if status >= 400 { "warn" } else { "info" },
        "request_id": id,
        "method": method,
        "route": route,
        "status": status,
        "ms": (elapsed * 1000.0 * 10.0).round() / 10.0,
        "client": client,
        "peer": peer,
        "error_code": code,
        "internal_error": internal,
    });
    if state.log_requests {
        eprintln!("{line}");
    }
    response
}

/// `GET /metrics`: the counters in the Prometheus text format.
pub async fn metrics(State(state): State<crate::Shared>) -> Response {
    let mut r = (StatusCode::OK, state.metrics.render()).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

#[cfg(test)]
mod latency_tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_inside_their_bucket_and_only_signing_routes_count() {
        let m = Metrics::default();
        // 100 signatures: 50 in (0.025, 0.05], 50 in (0.05, 0.1]; pages do not count.
        for i in 0..50 {
            m.observe(
                "POST",
                "/api/v2/sign/pdf",
                200,
                0.03 + f64::from(i) * 0.0001,
            );
            m.observe("POST", "/kotak-masuk/{id}/tandatangani", 200, 0.07);
        }
        m.observe("GET", "/verifikasi", 200, 20.0);
        let (median, p95, count) = m.signing_latency().unwrap_or_default();
        assert_eq!(count, 100);
        assert!((median - 0.05).abs() < 1e-9, "{median}");
        assert!((p95 - 0.095).abs() < 1e-9, "{p95}");
        assert!(Metrics::default().signing_latency().is_none());
    }
}
