//! Observability: a request id on every request (taken from `X-Request-Id` when sane, or made
//! here, and echoed back), the request's `tracing` span, one JSON log line per request, and the
//! Prometheus metrics at `/metrics`.
//!
//! - **Logs** are `tracing` events. [`init_logging`] installs the one subscriber of the process
//!   (`tracing-subscriber`: one JSON line per event on stderr, filtered by `SAHIH_LOG`, else
//!   `RUST_LOG`, in `EnvFilter` syntax; default `info,sqlx=warn`). The [`middleware`] opens a span named
//!   `request` with `request_id`, `method` and `route` around everything that serves the request,
//!   so an event logged anywhere inside (the core's signing included) carries the request id in
//!   its `span` object. When the answer is ready it logs the request line: `request_id`, `method`,
//!   `route`, `status`, `ms`, `client`, `peer`, `error_code`, `internal_error`, at `info`, `warn`
//!   (4xx) or `error` (5xx).
//! - **Metrics** go to a `prometheus-client` registry owned by each server's [`Metrics`] (in its
//!   state; nothing process-wide, so several servers in one process count apart), written in the
//!   Prometheus text format 0.0.4: `sahih_http_requests_total{method,route,status}`,
//!   `sahih_http_request_duration_seconds{route}` (histogram), `sahih_signatures_total{result}`,
//!   `sahih_http_in_flight`, and the standard `process_*` series (`super::process`).
//!
//! Owns: request ids, the request span and line, the metric names, the subscriber's format.
//! Must not know: what handlers do. Never logs bodies, headers with credentials, or query strings
//! (they may carry tokens): the route is the matched template, never the path.

use crate::error::{ErrorCode, InternalError};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram as PromHistogram;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The request id, available to handlers as an extension.
#[derive(Clone)]
pub struct RequestId(pub String);

/// The authenticated client's name, for the request log.
#[derive(Clone)]
pub struct ClientName(pub String);

// -- logs --------------------------------------------------------------------------------------

/// The variable that filters the log (`EnvFilter` syntax, e.g. `warn` or
/// `info,sahih_server::webhooks=debug`); `RUST_LOG` when it is unset.
pub const LOG_ENV: &str = "SAHIH_LOG";

/// What is logged when neither variable is set: `info`, but only warnings from the database
/// driver (its `info` lines are PostgreSQL notices such as "relation already exists, skipping").
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// The filter from `SAHIH_LOG`, else `RUST_LOG`, else [`DEFAULT_FILTER`]; with the reason when a variable was
/// set but could not be read (the default is used then).
fn filter_from_env() -> (EnvFilter, Option<String>) {
    let var = [LOG_ENV, "RUST_LOG"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().map(|value| (name, value)));
    match var {
        Some((name, value)) => match EnvFilter::try_new(&value) {
            Ok(filter) => (filter, None),
            Err(e) => (
                EnvFilter::new(DEFAULT_FILTER),
                Some(format!(
                    "{name} is not a log filter ({e}); using {DEFAULT_FILTER}"
                )),
            ),
        },
        None => (EnvFilter::new(DEFAULT_FILTER), None),
    }
}

/// The server's log subscriber: one flat JSON object per event (`timestamp`, `level`, `target`,
/// the event's fields, and the innermost span's fields under `span`), written to `writer`.
pub fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Installs the JSON log on stderr for the whole process (see [`LOG_ENV`]). Only the first call
/// in a process installs it; later calls (a second server in one process, tests) leave the
/// existing subscriber in place. True when this call installed it.
pub fn init_logging() -> bool {
    let (filter, problem) = filter_from_env();
    let installed =
        tracing::subscriber::set_global_default(json_subscriber(filter, std::io::stderr)).is_ok();
    if installed && let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    installed
}

/// The span of one request: everything logged while serving it names the request.
fn request_span(id: &str, method: &str, route: &str) -> tracing::Span {
    tracing::info_span!("request", request_id = id, method = method, route = route)
}

/// What the request line says.
struct RequestLine<'a> {
    id: &'a str,
    method: &'a str,
    route: &'a str,
    status: u16,
    seconds: f64,
    client: Option<&'a str>,
    peer: Option<&'a str>,
    error_code: Option<u32>,
    internal: Option<&'a str>,
}

impl RequestLine<'_> {
    /// One event; its level follows the status (5xx error, 4xx warn, else info).
    fn log(&self) {
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    request_id = self.id,
                    method = self.method,
                    route = self.route,
                    status = self.status,
                    ms = (self.seconds * 1000.0 * 10.0).round() / 10.0,
                    client = self.client,
                    peer = self.peer,
                    error_code = self.error_code,
                    internal_error = self.internal,
                    "request"
                )
            };
        }
        match self.status {
            500.. => line!(tracing::Level::ERROR),
            400..=499 => line!(tracing::Level::WARN),
            _ => line!(tracing::Level::INFO),
        }
    }
}

// -- metrics -----------------------------------------------------------------------------------

/// Latency buckets in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

fn latency_histogram() -> PromHistogram {
    PromHistogram::new(BUCKETS)
}

/// One server's metrics: its own `prometheus-client` registry (shown at `/metrics`), and the
/// signing latency of the administrator's dashboard.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, PromHistogram, fn() -> PromHistogram>,
    signatures: Family<ResultLabel, Counter>,
    in_flight: Gauge,
    /// The signing routes' latencies together, for the dashboard's median and 95th percentile
    /// (a `prometheus-client` histogram shows its buckets only to the encoder).
    signing: Mutex<BucketCounts>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Cumulative bucket counts over [`BUCKETS`], as a Prometheus histogram has them.
#[derive(Default, Clone)]
struct BucketCounts {
    counts: [u64; BUCKETS.len()],
    count: u64,
}

impl BucketCounts {
    fn observe(&mut self, seconds: f64) {
        for (c, b) in self.counts.iter_mut().zip(BUCKETS) {
            if seconds <= b {
                *c += 1;
            }
        }
        self.count += 1;
    }

    /// The `q` quantile, interpolated linearly inside its bucket as Prometheus'
    /// `histogram_quantile` does.
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

impl sahih_core::pipeline::SignatureCounter for Metrics {
    fn signatures(&self, result: sahih_core::pipeline::SignatureResult, n: u64) {
        use sahih_core::pipeline::SignatureResult;
        let result = match result {
            SignatureResult::Made => "ok",
            SignatureResult::Failed => "failed",
        };
        self.signatures
            .get_or_create(&ResultLabel { result })
            .inc_by(n);
    }
}

impl Metrics {
    /// A registry with every series registered (the signature counters at zero).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Family<RouteLabel, PromHistogram, fn() -> PromHistogram> =
            Family::new_with_constructor(latency_histogram);
        let signatures = Family::<ResultLabel, Counter>::default();
        let in_flight = Gauge::default();
        // Counters are registered without `_total`: the encoder adds it.
        registry.register(
            "sahih_http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "sahih_http_request_duration_seconds",
            "Request latency by route",
            latency.clone(),
        );
        registry.register(
            "sahih_signatures",
            "Documents signed through the APIs, by result",
            signatures.clone(),
        );
        registry.register(
            "sahih_http_in_flight",
            "Requests being served",
            in_flight.clone(),
        );
        registry.register_collector(Box::new(super::process::ProcessCollector));
        for result in ["ok", "failed"] {
            let _ = signatures.get_or_create(&ResultLabel { result });
        }
        Self {
            registry,
            requests,
            latency,
            signatures,
            in_flight,
            signing: Mutex::new(BucketCounts::default()),
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabel {
                route: route.to_string(),
            })
            .observe(seconds);
        if is_signing_route(route)
            && let Ok(mut s) = self.signing.lock()
        {
            s.observe(seconds);
        }
    }

    /// Median and 95th percentile (seconds) and the count of signing requests served so far
    /// by this server, estimated from their latency buckets as Prometheus'
    /// `histogram_quantile` does (linear within a bucket). None before the first one.
    pub fn signing_latency(&self) -> Option<(f64, f64, u64)> {
        let s = self.signing.lock().ok()?.clone();
        (s.count > 0).then(|| (s.quantile(0.5), s.quantile(0.95), s.count))
    }

    /// The Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Counts a request in flight until dropped (also when the client goes away mid-request and
/// the request's future is dropped).
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn start(g: &'a Gauge) -> Self {
        g.inc();
        Self(g)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

// -- the middleware ----------------------------------------------------------------------------

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

/// Middleware: a request id and span for every request, one request line, and the metrics.
pub async fn middleware(State(state): State<crate::Shared>, req: Request, next: Next) -> Response {
    observed(&state.metrics, state.log_requests, req, next).await
}

/// The middleware's work, on the metrics it counts into.
async fn observed(metrics: &Metrics, log: bool, mut req: Request, next: Next) -> Response {
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
    let span = request_span(&id, &method, &route);
    let mut response = {
        let _in_flight = InFlight::start(&metrics.in_flight);
        next.run(req).instrument(span.clone()).await
    };
    let status = response.status().as_u16();
    let elapsed = start.elapsed().as_secs_f64();
    metrics.observe(&method, &route, status, elapsed);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    if log {
        let line = RequestLine {
            id: &id,
            method: &method,
            route: &route,
            status,
            seconds: elapsed,
            client: response
                .extensions()
                .get::<ClientName>()
                .map(|c| c.0.as_str()),
            peer: peer.as_deref(),
            error_code: response.extensions().get::<ErrorCode>().map(|c| c.0),
            internal: response
                .extensions()
                .get::<InternalError>()
                .map(|c| c.0.as_str()),
        };
        span.in_scope(|| line.log());
    }
    response
}

/// `GET /metrics`: this server's metrics in the Prometheus text format.
pub async fn metrics(State(state): State<crate::Shared>) -> Response {
    exposition(&state.metrics)
}

fn exposition(metrics: &Metrics) -> Response {
    match metrics.render() {
        Ok(text) => {
            let mut r = (StatusCode::OK, text).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static(
                    prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                ),
            );
            r
        }
        Err(_) => {
            tracing::error!("the metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use std::sync::Arc;
    use tower::ServiceExt;

    #[test]
    fn quantiles_interpolate_inside_their_bucket_and_only_signing_routes_count() {
        let m = Metrics::new();
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
        assert!(Metrics::new().signing_latency().is_none());
    }

    /// The value of one sample line of `text` (`name{labels} value`), by exact prefix.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn the_exposition_keeps_every_series_name_and_label() {
        let m = Metrics::new();
        m.observe("GET", "/healthz", 200, 0.001);
        m.observe("GET", "/healthz", 200, 0.002);
        m.observe("POST", "/api/v2/sign/pdf", 400, 0.3);
        use sahih_core::pipeline::{SignatureCounter, SignatureResult};
        m.signatures(SignatureResult::Made, 2);
        let text = m.render().unwrap();
        for line in [
            "# TYPE sahih_http_requests_total counter",
            "# TYPE sahih_http_request_duration_seconds histogram",
            "# TYPE sahih_signatures_total counter",
            "# TYPE sahih_http_in_flight gauge",
            "# TYPE process_cpu_seconds_total counter",
            "# TYPE process_resident_memory_bytes gauge",
            "# TYPE process_open_fds gauge",
            "# TYPE process_start_time_seconds gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        let s = |series: &str| sample(&text, series);
        assert_eq!(
            s(r#"sahih_http_requests_total{method="GET",route="/healthz",status="200"}"#),
            Some(2.0)
        );
        assert_eq!(
            s(r#"sahih_http_requests_total{method="POST",route="/api/v2/sign/pdf",status="400"}"#),
            Some(1.0)
        );
        let bucket = |le| {
            s(&format!(
                r#"sahih_http_request_duration_seconds_bucket{{route="/api/v2/sign/pdf",le="{le}"}}"#
            ))
        };
        assert_eq!(bucket("0.25"), Some(0.0));
        assert_eq!(bucket("0.5"), Some(1.0));
        assert_eq!(
            bucket("1"),
            Some(1.0),
            "le values as Prometheus writes them"
        );
        assert_eq!(bucket("+Inf"), Some(1.0));
        assert_eq!(
            s(r#"sahih_http_request_duration_seconds_count{route="/healthz"}"#),
            Some(2.0)
        );
        assert!(
            s(r#"sahih_http_request_duration_seconds_sum{route="/healthz"}"#)
                .is_some_and(|v| (v - 0.003).abs() < 1e-9)
        );
        assert_eq!(s(r#"sahih_signatures_total{result="ok"}"#), Some(2.0));
        assert_eq!(s(r#"sahih_signatures_total{result="failed"}"#), Some(0.0));
        assert_eq!(s("sahih_http_in_flight"), Some(0.0));
    }

    #[test]
    fn two_servers_in_one_process_count_apart() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.observe("GET", "/healthz", 200, 0.001);
        let series = r#"sahih_http_requests_total{method="GET",route="/healthz",status="200"}"#;
        assert_eq!(sample(&a.render().unwrap(), series), Some(1.0));
        assert_eq!(sample(&b.render().unwrap(), series), None);
    }

    /// A writer that keeps what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<serde_json::Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect()
        }
    }

    /// Serves one request through the middleware, on a route whose handler logs an error the
    /// way core code does (no request id of its own), with the JSON subscriber capturing.
    fn serve_one(
        filter: &str,
        request: axum::http::Request<Body>,
    ) -> (Response, Captured, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        let app = Router::new()
            .route(
                "/dokumen/{id}",
                get(|| async {
                    tracing::error!(
                        target: "sahih_core::pipeline",
                        reason = "the TSA did not answer",
                        "signing failed"
                    );
                    (StatusCode::INTERNAL_SERVER_ERROR, "gagal")
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&metrics),
                |State(m): State<Arc<Metrics>>, req: Request, next: Next| async move {
                    observed(&m, true, req, next).await
                },
            ));
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = json_subscriber(EnvFilter::new(filter), move || writer.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(app.oneshot(request)).unwrap()
        });
        (response, captured, metrics)
    }

    #[test]
    fn an_event_inside_the_request_carries_its_id_and_the_line_holds_no_secrets() {
        let request = axum::http::Request::get("/dokumen/42?token=RAHASIA-KUERI")
            .header("x-request-id", "uji-123")
            .header("authorization", "Basic UkFIQVNJQS1LUkVERU5TSUFM")
            .body(Body::empty())
            .unwrap();
        let (response, captured, metrics) = serve_one("info", request);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["x-request-id"], "uji-123");
        let lines = captured.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        // The handler's event: no request id of its own, but the span's.
        let deep = &lines[0];
        assert_eq!(deep["message"], "signing failed");
        assert_eq!(deep["level"], "ERROR");
        assert_eq!(deep["span"]["request_id"], "uji-123");
        assert_eq!(deep["span"]["route"], "/dokumen/{id}");
        // The request line, with today's field names.
        let line = &lines[1];
        assert_eq!(line["request_id"], "uji-123");
        assert_eq!(line["method"], "GET");
        assert_eq!(line["route"], "/dokumen/{id}");
        assert_eq!(line["status"], 500);
        assert_eq!(line["level"], "ERROR");
        assert!(
            line["ms"].is_number() && line["timestamp"].is_string(),
            "{line}"
        );
        // Neither the query string, nor the path's values, nor the credential, anywhere.
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        for needle in ["RAHASIA", "token", "UkFIQVNJQS", "/dokumen/42"] {
            assert!(!text.contains(needle), "{needle} in {text}");
        }
        let exposition = metrics.render().unwrap();
        assert_eq!(
            sample(
                &exposition,
                r#"sahih_http_requests_total{method="GET",route="/dokumen/{id}",status="500"}"#
            ),
            Some(1.0)
        );
        assert_eq!(sample(&exposition, "sahih_http_in_flight"), Some(0.0));
    }

    #[test]
    fn the_filter_decides_what_is_written() {
        let request = || {
            axum::http::Request::get("/dokumen/1")
                .body(Body::empty())
                .unwrap()
        };
        // Errors only from the server: the request line (5xx) stays, the core's event goes.
        let (_, captured, _) = serve_one("off,sahih_server=error", request());
        let lines = captured.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["status"], 500);
        // A made id is 16 hex digits, and the span has it too.
        let (response, captured, _) = serve_one("info", request());
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
        assert!(
            captured
                .lines()
                .iter()
                .all(|l| l["span"]["request_id"] == id.as_str())
        );
        let (_, captured, _) = serve_one("off", request());
        assert!(captured.lines().is_empty());
    }

    #[test]
    fn a_second_install_leaves_the_first_in_place() {
        // As when a test (or a second server in one process) already set a subscriber: starting a
        // server must neither panic nor replace it. (A silent one here, so the other tests of
        // this binary write nothing to stderr.)
        let _ =
            tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
        assert!(!init_logging());
        assert!(!init_logging());
    }
}
