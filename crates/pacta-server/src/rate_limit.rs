//! Per-client rate limits on the write endpoints (DESIGN.md §8): a token bucket per client
//! address (`write_rate_per_second` sustained, `write_burst` at once), checked before the
//! token and before the body is read. Over it → 429 with `Retry-After`.
//!
//! The client is the connection's peer address, unless that peer is one of the configured
//! `trusted_proxies`: then it is the address the proxies name in `X-Forwarded-For`, read
//! from the right (the hop nearest us) past every trusted proxy, since only what our own
//! proxies appended can be believed; any client can write the rest. Without trusted proxies
//! the header is ignored, and every client behind a proxy shares the proxy's bucket. IPv6
//! clients are keyed by their /64, which one host usually holds whole.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{Config, IpNet};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Write requests between two sweeps of idle clients out of the map. A client's bucket is
/// dropped once it has refilled (at most `write_burst / write_rate_per_second` seconds after
/// its last write), so the map holds the clients active lately plus at most this many.
const SWEEP_EVERY: u64 = 4_096;

/// The per-client token buckets of the write endpoints.
pub struct WriteLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl WriteLimiter {
    /// The limiter `config` asks for; `None` when `write_rate_per_second` is 0 (no limit).
    /// A burst below 1 is taken as 1.
    pub fn from_config(config: &Config) -> Option<WriteLimiter> {
        let rate = NonZeroU32::new(config.write_rate_per_second)?;
        let burst = NonZeroU32::new(config.write_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Some(WriteLimiter {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            checks: AtomicU64::new(0),
        })
    }

    /// Takes one write from `client`'s bucket, or says how long until one is available.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&client_key(client))
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Clients with a bucket that has not refilled yet (approximately).
    pub fn clients(&self) -> usize {
        self.limiter.len()
    }
}

/// The key a client is limited under: its IPv4 address (also when written as IPv4-mapped
/// IPv6), or its IPv6 /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

/// The client a request comes from: `peer`, or if `peer` is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not one (the leftmost if all are). An entry that is
/// not an address stops the walk at the hop that wrote it: a trusted proxy wrote nothing
/// else, so the request is charged to the last trusted hop.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers are one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

/// Whole seconds to announce in `Retry-After` for a wait of `wait` (at least 1: a client
/// told 0 would retry at once and be refused again).
fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Middleware on the write routes: refuses a client over its rate with 429 before anything
/// else is done for the request.
pub async fn limit_writes(
    State((state, limiter)): State<(AppState, Arc<WriteLimiter>)>,
    request: Request,
    next: Next,
) -> Response {
    // Without the peer address (a router served without connect info) every client shares
    // one bucket: the limit still holds, if coarsely.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |info| info.0.ip());
    let client = client_address(peer, request.headers(), &state.config().trusted_proxies);
    let Err(wait) = limiter.check(client) else {
        return next.run(request).await;
    };
    let seconds = retry_after_seconds(wait);
    let problem = Problem::new(
        ProblemKind::RateLimited,
        format!(
            "over {} write requests a second (burst {}) from this address; retry in {seconds} s",
            state.config().write_rate_per_second,
            state.config().write_burst.max(1)
        ),
    );
    state.metrics().count_refusal(problem.kind().slug());
    let mut response = problem.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: u32, burst: u32) -> WriteLimiter {
        WriteLimiter::from_config(&Config {
            write_rate_per_second: rate,
            write_burst: burst,
            ..Config::default()
        })
        .unwrap()
    }

    #[test]
    fn a_zero_rate_disables_the_limit() {
        let config = Config {
            write_rate_per_second: 0,
            ..Config::default()
        };
        assert!(WriteLimiter::from_config(&config).is_none());
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_and_others_are_unaffected() {
        let limiter = limiter(1, 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(limiter.check(b), Ok(()));
    }

    #[test]
    fn one_ipv6_slash_64_is_one_client() {
        let limiter = limiter(1, 1);
        assert_eq!(limiter.check("2001:db8:0:1::1".parse().unwrap()), Ok(()));
        assert!(limiter.check("2001:db8:0:1::2".parse().unwrap()).is_err());
        assert_eq!(limiter.check("2001:db8:0:2::1".parse().unwrap()), Ok(()));
        assert_eq!(
            client_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn idle_clients_are_swept_out() {
        let limiter = limiter(1_000_000, 1);
        for n in 0..SWEEP_EVERY - 1 {
            let _ = limiter.check(IpAddr::from((n as u32).to_be_bytes()));
        }
        assert_eq!(limiter.clients(), (SWEEP_EVERY - 1) as usize);
        // At a million a second every bucket has refilled by the sweeping check.
        std::thread::sleep(Duration::from_millis(5));
        let _ = limiter.check("198.51.100.1".parse().unwrap());
        assert!(limiter.clients() <= 1, "{}", limiter.clients());
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_behind_trusted_proxies_is_the_nearest_untrusted_hop() {
        let trusted: Vec<IpNet> = ["10.0.0.0/8", "2001:db8::/32"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        let proxy = ip("10.1.2.3");
        // A client that forged its own header is still charged as itself: only the hops our
        // proxies appended are believed.
        let spoofed = forwarded(&["198.51.100.9, 203.0.113.5"]);
        assert_eq!(client_address(proxy, &spoofed, &trusted), ip("203.0.113.5"));
        // Two proxies in a chain; the header split across two fields is one list.
        let chain = forwarded(&["203.0.113.5", "10.9.9.9"]);
        assert_eq!(client_address(proxy, &chain, &trusted), ip("203.0.113.5"));
        // Every hop a trusted proxy: the leftmost.
        let internal = forwarded(&["10.4.4.4, 2001:db8::1"]);
        assert_eq!(client_address(proxy, &internal, &trusted), ip("10.4.4.4"));
        // Garbage stops the walk at the last trusted hop.
        let garbage = forwarded(&["203.0.113.5, unknown, 10.9.9.9"]);
        assert_eq!(client_address(proxy, &garbage, &trusted), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn the_header_is_ignored_from_an_untrusted_peer_or_without_trusted_proxies() {
        let headers = forwarded(&["203.0.113.5"]);
        let peer = ip("198.51.100.1");
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_address(peer, &headers, &trusted), peer);
        assert_eq!(
            client_address(ip("10.1.2.3"), &headers, &[]),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2_001)), 3);
    }
}
