//! The physical limits of ingest, measured in the process that measures Pacta, so that the
//! two can be compared as a ratio on whatever machine runs them.

use std::time::Instant;

use ed25519_dalek::{Signer, SigningKey};

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

/// Strict Ed25519 verifications per second (`verify_strict`, one signature over a
/// `message_bytes`-byte message, again and again) on `threads` threads for `seconds`: what
/// no ingest of signed entries can beat. `None` if the signature does not verify.
pub fn verify_strict_rate(threads: usize, seconds: f64, message_bytes: usize) -> Option<f64> {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = key.verifying_key();
    let message: Vec<u8> = (0..message_bytes).map(|i| (i % 251) as u8).collect();
    let signature = key.sign(&message);
    public.verify_strict(&message, &signature).ok()?;
    const PER_CALL: u64 = 64;
    let verify = || {
        let mut ok = 0;
        for _ in 0..PER_CALL {
            ok += u64::from(public.verify_strict(&message, &signature).is_ok());
        }
        ok
    };
    Some(rate(threads, seconds, &verify))
}
