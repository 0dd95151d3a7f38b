//! The physical limits of ingest, measured in the process that measures Pacta, so that the
//! two can be compared as a ratio on whatever machine runs them.

use std::time::Instant;

use ed25519_dalek::{Signer, SigningKey};
use pacta_core::entry::StrictKey;

/// Runs `work` (which returns how many operations it did) on `threads` threads at once for
/// at least `seconds`; operations per second over all threads.
pub fn rate(threads: usize, seconds: f64, work: &(dyn Fn() -> u64 + Sync)) -> f64 {
    let started = Instant::now();
    let done: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while started.elapsed().as_secs_f64() < seconds {
                        n += work();
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

/// A strict Ed25519 verification whose rate is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrictVerifier {
    /// `ed25519_dalek::VerifyingKey::verify_strict`: the verification bound of issue 5.
    Dalek,
    /// `pacta_core::entry::StrictKey::verify_each`, which Pacta verifies entries with, a
    /// batch at a time: the same verdicts without decompressing `R`, and with one field
    /// inversion for the whole batch where `verify_strict` does one per signature.
    Pacta,
}

/// Strict Ed25519 verifications per second (one signature over a `message_bytes`-byte
/// message, again and again, by `verifier`) on `threads` threads for `seconds`: what no
/// ingest of signed entries verified that way can beat. `None` if the signature does not
/// verify.
pub fn strict_verify_rate(
    verifier: StrictVerifier,
    threads: usize,
    seconds: f64,
    message_bytes: usize,
) -> Option<f64> {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = key.verifying_key();
    let strict = StrictKey::new(&public)?;
    let message: Vec<u8> = (0..message_bytes).map(|i| (i % 251) as u8).collect();
    let signature = key.sign(&message);
    // Verifications a call makes: Pacta's as one batch, as a reader of many entries does.
    const PER_CALL: usize = 64;
    let verify_many = || -> u64 {
        let verified = match verifier {
            StrictVerifier::Dalek => (0..PER_CALL)
                .filter(|_| public.verify_strict(&message, &signature).is_ok())
                .count(),
            StrictVerifier::Pacta => StrictKey::verify_each(std::iter::repeat_n(
                (&strict, &message[..], &signature),
                PER_CALL,
            ))
            .into_iter()
            .filter(|ok| *ok)
            .count(),
        };
        verified as u64
    };
    if verify_many() != PER_CALL as u64 {
        return None;
    }
    Some(rate(threads, seconds, &verify_many))
}

/// The verification bound beside each of a run of replays, in seconds: `rates_after[i]` is
/// the verification rate measured right after replay `i`, so replay `i` lies between
/// measurements `i - 1` and `i`; its bound is the mean of the seconds those two give for
/// `entries` signatures (the one after it alone for the first replay). The machine's speed
/// drifts within minutes, so a replay is set against the bound measured next to it.
pub fn bounds_beside(entries: f64, rates_after: &[f64]) -> Vec<f64> {
    let seconds: Vec<f64> = rates_after.iter().map(|rate| entries / rate).collect();
    seconds
        .iter()
        .enumerate()
        .map(
            |(i, after)| match i.checked_sub(1).and_then(|b| seconds.get(b)) {
                Some(before) => (before + after) / 2.0,
                None => *after,
            },
        )
        .collect()
}

/// The index of the median of `values` (the lower middle one for an even count), or `None`
/// for none.
pub fn median_index(values: &[f64]) -> Option<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
    order.get(order.len().checked_sub(1)? / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_replay_gets_the_mean_of_the_bounds_around_it() {
        // 1,000 signatures at 100/s, then 200/s, then 50/s: 10 s, 5 s, 20 s.
        let beside = bounds_beside(1000.0, &[100.0, 200.0, 50.0]);
        assert_eq!(beside, vec![10.0, 7.5, 12.5]);
    }

    #[test]
    fn both_verifiers_verify_the_measured_signature() {
        for verifier in [StrictVerifier::Dalek, StrictVerifier::Pacta] {
            let rate = strict_verify_rate(verifier, 1, 0.01, 410);
            assert!(rate.is_some_and(|r| r > 0.0), "{verifier:?}: {rate:?}");
        }
    }

    #[test]
    fn the_median_is_the_middle_value_or_the_lower_middle_one() {
        assert_eq!(median_index(&[3.0, 1.0, 2.0]), Some(2));
        assert_eq!(median_index(&[4.0, 1.0, 3.0, 2.0]), Some(3));
        assert_eq!(median_index(&[7.0]), Some(0));
        assert_eq!(median_index(&[]), None);
    }
}
