//! Per-client rate limits on the write endpoints (DESIGN.md §8): a token bucket per client
//! address (`write_rate_per_second` sustained, `write_burst` at once), checked before the
//! token and before the body is read. Over it → 429 with `Retry-After`.
//!
//! The client is the connection's peer address: behind a reverse proxy every request comes
//! from the proxy, so the proxy should limit per client itself (forwarded headers are not
//! trusted, since any client can write them). IPv6 clients are keyed by their /64, which one
//! host usually holds whole.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
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
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |info| info.0.ip());
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

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2_001)), 3);
    }
}
