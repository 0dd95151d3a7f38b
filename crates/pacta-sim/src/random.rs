//! Seeded randomness: one ChaCha8 stream per purpose, so a scenario is a function of its seed.
//!
//! Only `rand_chacha`'s portable stream and IEEE arithmetic are used, plus `ln`, `cos` and
//! `sqrt` for normal draws; same seed, same machine: same bytes. (Across machines `ln` and
//! `cos` could differ in the last bit in a rare draw; every value written is rounded.)

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded random stream.
pub struct Stream(ChaCha8Rng);

/// SplitMix64's finaliser: spreads a seed and a purpose into an independent stream seed.
pub fn mix(seed: u64, purpose: u64) -> u64 {
    let mut z = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Stream {
    /// The stream for `purpose` under `seed`.
    pub fn new(seed: u64, purpose: u64) -> Stream {
        Stream(ChaCha8Rng::seed_from_u64(mix(seed, purpose)))
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// Uniform in [a, b).
    pub fn between(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.0.random_range(0..n)
        }
    }

    /// Uniform integer in [a, b].
    pub fn int(&mut self, a: u32, b: u32) -> u32 {
        if b <= a {
            a
        } else {
            self.0.random_range(a..=b)
        }
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Poisson with mean `lambda` (Knuth below 30, a rounded normal above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 || lambda.is_nan() {
            return 0;
        }
        if lambda >= 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut product = self.unit();
        while product > limit {
            k += 1;
            product *= self.unit();
        }
        k
    }

    /// An index drawn with the given non-negative weights; 0 if they sum to nothing.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if *w > 0.0 {
                if x < *w {
                    return i;
                }
                x -= w;
            }
        }
        weights.len().saturating_sub(1)
    }

    /// 32 random bytes as lower-case hex (a stand-in for a media file's SHA-256).
    pub fn hex32(&mut self) -> String {
        let mut out = String::with_capacity(64);
        for _ in 0..4 {
            out.push_str(&format!("{:016x}", self.0.random::<u64>()));
        }
        out
    }
}
