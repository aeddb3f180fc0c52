//! Prometheus metrics without a metrics library: requests by route, method and status,
//! request latency histograms by route, and the store's connection pool. Routes are the
//! matched templates (`/api/v1/users/{id}`), never raw paths, so cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// One route's figures: requests by method and status, and its latency.
#[derive(Default)]
struct Route {
    requests: BTreeMap<(String, u16), u64>,
    latency: Histogram,
}

/// Behind one lock, keyed so that a request already seen allocates nothing.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, Route>>,
}

impl Metrics {
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), Route::default());
        }
        let Some(r) = routes.get_mut(route) else {
            return;
        };
        match r
            .requests
            .iter_mut()
            .find(|((m, s), _)| m == method && *s == status)
        {
            Some((_, n)) => *n += 1,
            None => {
                r.requests.insert((method.to_owned(), status), 1);
            }
        }
        let h = &mut r.latency;
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    pub fn render(&self, pool: latchkey_store::PoolState, backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP latchkey_http_requests_total HTTP requests by route, method and status."
        );
        let _ = writeln!(out, "# TYPE latchkey_http_requests_total counter");
        let routes = self.routes.lock();
        if let Ok(routes) = &routes {
            for (route, (method, status), n) in routes
                .iter()
                .flat_map(|(route, r)| r.requests.iter().map(move |(k, n)| (route, k, n)))
            {
                let _ = writeln!(
                    out,
                    "latchkey_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP latchkey_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE latchkey_http_request_duration_seconds histogram"
        );
        if let Ok(routes) = &routes {
            for (route, h) in routes.iter().map(|(route, r)| (route, &r.latency)) {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP latchkey_store_pool_connections Connections in the store's pool."
        );
        let _ = writeln!(out, "# TYPE latchkey_store_pool_connections gauge");
        let _ = writeln!(
            out,
            "latchkey_store_pool_connections{{backend=\"{backend}\",state=\"open\"}} {}",
            pool.size
        );
        let _ = writeln!(
            out,
            "latchkey_store_pool_connections{{backend=\"{backend}\",state=\"idle\"}} {}",
            pool.idle
        );
        out
    }
}
