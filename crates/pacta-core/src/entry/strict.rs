//! Strict Ed25519 verification that accepts exactly the signatures
//! `ed25519_dalek::VerifyingKey::verify_strict` accepts, with no field exponentiation per
//! signature where it does two, when signatures are verified many at a time.
//!
//! Beside the double scalar multiplication, `verify_strict` decompresses the signature's `R`
//! (a square root: an exponentiation of about 250 squarings) and compresses the point it
//! recomputes (an inversion: another). A replay verifies every signature of a log, so Pacta
//! does the same check without the first, and shares the second among all the signatures
//! of a batch ([`StrictKey::verify_each`]: one inversion for a group of them, Montgomery's
//! trick, as `EdwardsPoint::compress_batch` does it). One at a time ([`StrictKey::verify`])
//! it was 1.1 to 1.3 times as fast as `verify_strict` on report-sized messages; the figures
//! for batches are in `bench/BENCHMARKS.md`:
//!
//! - the key's point, and whether it has small order, are worked out once per key, and the
//!   challenge hashes the key's bytes as given, as `verify_strict` does;
//! - `R` is never decompressed. The recomputed point `[s]B - [k]A` is compressed, and
//!   `verify_strict` itself accepts only if that compression equals `R`'s bytes. A
//!   compression is always the canonical encoding of a point on the curve, so an `R` that is
//!   not a point, or not canonical, fails the comparison here exactly as it fails there
//!   (where decompression may accept a non-canonical `R`, and the comparison rejects it);
//! - once the comparison has made `R` canonical, it has small order exactly when its bytes
//!   are one of the eight canonical encodings of the points of small order, so that test is
//!   a lookup.
//! - a key that has verified `TABULATED_AFTER` signatures computes `[s]B - [k]A` from
//!   tables of the basepoint's and its own multiples (`entry/multiples.rs`) with no doublings:
//!   the same point, so the same verdict, for about a third of the cost. A replay verifies
//!   thousands of signatures under each monitor's key.
//!
//! The scalar `s` must be canonical (`s < ℓ`) and `k` is SHA-512 of `R ‖ A ‖ message` reduced
//! modulo ℓ, as in `verify_strict`, which checks `s` so only while ed25519-dalek's
//! `legacy_compatibility` feature is off (it is: that feature accepts malleable signatures,
//! and the `s + ℓ` test would fail). The tests check the verdicts agree, one at a time and
//! in batches, on valid signatures and on every way of failing: another message, another
//! key, `s + ℓ`, every small-order `R` with the equation holding, non-canonical and off-curve
//! `R`, keys and `R` with a torsion component, keys encoded non-canonically, and keys of
//! small order.
//!
//! The arithmetic is curve25519-dalek 5's, whose batch compression 4.1 (under ed25519-dalek
//! 2, which `verify_strict` and signing still use) does not offer; the two meet only in
//! bytes: keys, signatures and messages.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

use super::multiples::MultiplesTable;

/// The canonical encodings of the eight points of small order.
static SMALL_ORDER: LazyLock<[CompressedEdwardsY; 8]> =
    LazyLock::new(|| EIGHT_TORSION.map(|point| point.compress()));

/// The basepoint's multiples, for the keys that have tables of their own.
static BASEPOINT_MULTIPLES: LazyLock<MultiplesTable> =
    LazyLock::new(|| MultiplesTable::new(&ED25519_BASEPOINT_POINT));

/// Signatures a key verifies before it gets a table of multiples: a table (640 KiB, 2.7 ms to
/// build) saves about 22 µs a signature, so it pays for itself after about 120, and a key
/// that verifies only a few never costs the memory.
const TABULATED_AFTER: u32 = 256;

/// A public key made ready for strict verification: its encoding, as the challenge hashes
/// it, and its point negated, as the verification equation uses it. A key that has verified
/// `TABULATED_AFTER` signatures also keeps a table of its point's multiples
/// (`entry/multiples.rs`), shared by its clones, with which each later one costs a third.
#[derive(Debug)]
pub struct StrictKey {
    encoded: [u8; 32],
    minus_point: EdwardsPoint,
    multiples: OnceLock<Arc<MultiplesTable>>,
    /// Signatures verified without the table, counted until it is built.
    untabulated: AtomicU32,
}

impl Clone for StrictKey {
    fn clone(&self) -> Self {
        StrictKey {
            encoded: self.encoded,
            minus_point: self.minus_point,
            multiples: self.multiples.clone(),
            untabulated: AtomicU32::new(self.untabulated.load(Ordering::Relaxed)),
        }
    }
}

impl StrictKey {
    /// The key `key`, or `None` if its point has small order: `verify_strict` rejects every
    /// signature under such a key.
    pub fn new(key: &VerifyingKey) -> Option<Self> {
        Self::from_bytes(key.as_bytes())
    }

    /// The key encoded as `bytes`, or `None` if they are not a point or it has small order.
    /// Decompression accepts what ed25519-dalek's `VerifyingKey::from_bytes` accepts.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let point = CompressedEdwardsY(*bytes).decompress()?;
        if point.is_small_order() {
            return None;
        }
        Some(StrictKey {
            encoded: *bytes,
            minus_point: -point,
            multiples: OnceLock::new(),
            untabulated: AtomicU32::new(0),
        })
    }

    /// The key with its table of multiples built now.
    #[cfg(test)]
    fn tabulated(self) -> Self {
        self.untabulated.store(TABULATED_AFTER, Ordering::Relaxed);
        self.multiples();
        self
    }

    /// The key's table of multiples, built when this verification is its
    /// `TABULATED_AFTER`th; `None` before.
    fn multiples(&self) -> Option<&MultiplesTable> {
        if let Some(table) = self.multiples.get() {
            return Some(table);
        }
        if self.untabulated.fetch_add(1, Ordering::Relaxed) + 1 < TABULATED_AFTER {
            return None;
        }
        Some(
            self.multiples
                .get_or_init(|| Arc::new(MultiplesTable::new(&self.minus_point))),
        )
    }

    /// Whether `signature` is this key's strict Ed25519 signature of `message`: the verdict
    /// of `verify_strict`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.recomputed_r(message, signature)
            .is_some_and(|point| accepts(&point.compress(), signature))
    }

    /// [`StrictKey::verify`]'s verdict on each `(key, message, signature)`, in order, with one
    /// field inversion for every [`VERIFIED_TOGETHER`] of them.
    pub fn verify_each<'a>(
        items: impl IntoIterator<Item = (&'a StrictKey, &'a [u8], &'a Signature)>,
    ) -> Vec<bool> {
        let mut items = items.into_iter().peekable();
        let mut verdicts = Vec::with_capacity(items.size_hint().0);
        // The recomputed points of a group, and their signatures (`None` where `s` is not
        // canonical: rejected, whatever its slot's point). Unused slots keep a point, any
        // point, for the batch compression.
        let mut points = [EdwardsPoint::identity(); VERIFIED_TOGETHER];
        let mut signatures: [Option<&Signature>; VERIFIED_TOGETHER] = [None; VERIFIED_TOGETHER];
        while items.peek().is_some() {
            let mut taken = 0;
            // The slots come first, so no item is taken beyond the last slot.
            for ((point, slot), (key, message, signature)) in
                points.iter_mut().zip(&mut signatures).zip(items.by_ref())
            {
                *slot = key.recomputed_r(message, signature).map(|recomputed| {
                    *point = recomputed;
                    signature
                });
                taken += 1;
            }
            let group = points.iter().zip(&signatures).take(taken);
            if taken < SHARED_INVERSION_FROM {
                // A whole group's compression would cost more than these points' own.
                verdicts.extend(group.map(|(point, signature)| {
                    signature.is_some_and(|s| accepts(&point.compress(), s))
                }));
            } else {
                let compressed = EdwardsPoint::compress_batch(&points);
                verdicts.extend(
                    compressed
                        .iter()
                        .zip(group)
                        .map(|(c, (_, signature))| signature.is_some_and(|s| accepts(c, s))),
                );
            }
        }
        verdicts
    }

    /// `[s]B - [k]A`, which must be `R`; `None` if `s` is not canonical.
    fn recomputed_r(&self, message: &[u8], signature: &Signature) -> Option<EdwardsPoint> {
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))?;
        let challenge: [u8; 64] = Sha512::new()
            .chain_update(signature.r_bytes())
            .chain_update(self.encoded)
            .chain_update(message)
            .finalize()
            .into();
        let k = Scalar::from_bytes_mod_order_wide(&challenge);
        Some(match self.multiples() {
            Some(minus_multiples) => minus_multiples.add_multiple(
                BASEPOINT_MULTIPLES.add_multiple(EdwardsPoint::identity(), &s),
                &k,
            ),
            None => EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &self.minus_point, &s),
        })
    }
}

/// How many signatures [`StrictKey::verify_each`] compresses with one inversion: enough that
/// the inversion's share is a few hundredths of a signature's cost, few enough that a group
/// stays on the stack (10 KiB of points).
pub const VERIFIED_TOGETHER: usize = 64;

/// The fewest points of a group whose compressions share one inversion: below, each is
/// compressed alone. A group's compression covers all [`VERIFIED_TOGETHER`] slots, however
/// few are used: measured, 0.48 µs a slot (31 µs a group) against 6.7 µs for a point alone.
const SHARED_INVERSION_FROM: usize = 5;

/// Whether the recomputed `R`, compressed, is the signature's, and not of small order.
fn accepts(recomputed: &CompressedEdwardsY, signature: &Signature) -> bool {
    recomputed.as_bytes() == signature.r_bytes() && !SMALL_ORDER.contains(recomputed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    /// `verify_strict`'s verdict, which `StrictKey` must give alone and in a batch.
    fn assert_same(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
        let dalek = key.verify_strict(message, signature).is_ok();
        // With dalek's double scalar multiplication, and with the tables of multiples.
        for tabulated in [false, true] {
            let strict = StrictKey::new(key).map(|strict| {
                if tabulated {
                    strict.tabulated()
                } else {
                    strict
                }
            });
            let alone = strict
                .as_ref()
                .is_some_and(|strict| strict.verify(message, signature));
            assert_eq!(
                dalek, alone,
                "verify_strict says {dalek}, StrictKey {alone} (tabulated: {tabulated})"
            );
            if let Some(strict) = &strict {
                // Alone in a group (compressed by itself), and in a group whose compressions
                // share an inversion.
                for copies in [1, SHARED_INVERSION_FROM] {
                    assert_eq!(
                        StrictKey::verify_each(std::iter::repeat_n(
                            (strict, message, signature),
                            copies
                        )),
                        vec![dalek; copies],
                        "in a group of {copies} (tabulated: {tabulated})"
                    );
                }
            }
        }
        dalek
    }

    /// The secret scalar of `key`, in this module's curve arithmetic.
    fn secret_of(key: &SigningKey) -> Scalar {
        Scalar::from_bytes_mod_order(key.to_scalar().to_bytes())
    }

    fn signature_from(r: [u8; 32], s: [u8; 32]) -> Signature {
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&r);
        bytes[32..].copy_from_slice(&s);
        Signature::from_bytes(&bytes)
    }

    /// The challenge `k` of a signature with nonce point bytes `r` under key bytes `public`.
    fn challenge(r: &[u8; 32], public: &[u8; 32], message: &[u8]) -> Scalar {
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r)
            .chain_update(public)
            .chain_update(message)
            .finalize()
            .into();
        Scalar::from_bytes_mod_order_wide(&digest)
    }

    /// A signature made by hand: nonce point `nonce_point` (whatever it is), challenge over
    /// the bytes `public` of the key claimed, secret scalar `secret`, nonce `nonce` (so that
    /// `s = nonce + k * secret`), as a signer who deviates from RFC 8032 could make it.
    fn crafted(
        nonce: Scalar,
        nonce_point: EdwardsPoint,
        secret: Scalar,
        public: &[u8; 32],
        message: &[u8],
    ) -> Signature {
        let r = nonce_point.compress().to_bytes();
        let k = challenge(&r, public, message);
        signature_from(r, (nonce + k * secret).to_bytes())
    }

    proptest! {
        #[test]
        fn agrees_with_verify_strict_on_valid_and_altered_signatures(
            seed in any::<[u8; 32]>(),
            other_seed in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..600),
            flip in any::<(usize, u8)>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let public = key.verifying_key();
            let signature = key.sign(&message);
            prop_assert!(assert_same(&public, &message, &signature));
            // Another message.
            let mut altered = message.clone();
            altered.push(flip.1);
            prop_assert!(!assert_same(&public, &altered, &signature));
            // Another key.
            let other = SigningKey::from_bytes(&other_seed).verifying_key();
            prop_assume!(other != public);
            prop_assert!(!assert_same(&other, &message, &signature));
            // A bit of the signature flipped.
            let mut bytes = signature.to_bytes();
            let bit = flip.1 % 8;
            bytes[flip.0 % 64] ^= 1 << bit;
            prop_assert!(!assert_same(&public, &message, &Signature::from_bytes(&bytes)));
        }

        #[test]
        fn agrees_on_arbitrary_bytes(
            key_bytes in any::<[u8; 32]>(),
            r in any::<[u8; 32]>(),
            s in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let dalek_key = VerifyingKey::from_bytes(&key_bytes).ok();
            // The same keys are usable: decoded alike, and not of small order.
            prop_assert_eq!(
                StrictKey::from_bytes(&key_bytes).is_some(),
                dalek_key.is_some_and(|key| !key.is_weak())
            );
            if let Some(key) = dalek_key {
                assert_same(&key, &message, &signature_from(r, s));
            }
        }

        #[test]
        fn a_batch_gives_each_signature_its_own_verdict(
            cases in proptest::collection::vec(
                (0u8..4, any::<u8>(), proptest::collection::vec(any::<u8>(), 0..80), 0u8..5),
                0..40,
            ),
        ) {
            // Keys, messages and ways of failing mixed in one batch, a non-canonical `s`
            // (which has no point to compress) among them.
            let keys: Vec<SigningKey> =
                (0..4u8).map(|i| SigningKey::from_bytes(&[i + 40; 32])).collect();
            let strict: Vec<StrictKey> = keys
                .iter()
                .map(|k| StrictKey::new(&k.verifying_key()).expect("a key of large order"))
                .collect();
            let items: Vec<(usize, Vec<u8>, Signature)> = cases
                .iter()
                .map(|(key, byte, message, how)| {
                    let key = usize::from(*key);
                    let byte = usize::from(*byte);
                    let mut signature = keys[key].sign(message).to_bytes();
                    // 0 honest, 1 a bit flipped, 2 `s` not canonical, 3 `R` of small order,
                    // 4 under another key than its signer's.
                    let claimed = if *how == 4 { (key + 1) % 4 } else { key };
                    match how {
                        1 => signature[byte % 64] ^= 1,
                        2 => signature[32..].copy_from_slice(&[0xff; 32]),
                        3 => signature[..32].copy_from_slice(SMALL_ORDER[byte % 8].as_bytes()),
                        _ => {}
                    }
                    (claimed, message.clone(), Signature::from_bytes(&signature))
                })
                .collect();
            let batch = StrictKey::verify_each(
                items
                    .iter()
                    .map(|(key, message, signature)| (&strict[*key], &message[..], signature)),
            );
            let alone: Vec<bool> = items
                .iter()
                .map(|(key, message, signature)| {
                    assert_same(&keys[*key].verifying_key(), message, signature)
                })
                .collect();
            prop_assert_eq!(batch, alone);
        }
    }

    #[test]
    fn groups_of_every_size_give_each_signature_its_own_verdict() {
        // Past one group, with small last groups (compressed point by point) and failures
        // of every kind spread across groups.
        let key = SigningKey::from_bytes(&[60u8; 32]);
        let strict = StrictKey::new(&key.verifying_key()).expect("a key of large order");
        let items: Vec<(Vec<u8>, Signature)> = (0..2 * VERIFIED_TOGETHER + 3)
            .map(|i| {
                let message = i.to_le_bytes().to_vec();
                let mut signature = key.sign(&message).to_bytes();
                match i % 5 {
                    1 => signature[i % 64] ^= 0x10,
                    3 => signature[32..].copy_from_slice(&[0xff; 32]),
                    _ => {}
                }
                (message, Signature::from_bytes(&signature))
            })
            .collect();
        for n in [
            0,
            1,
            4,
            5,
            VERIFIED_TOGETHER,
            VERIFIED_TOGETHER + 1,
            items.len(),
        ] {
            let some = items.get(..n).unwrap_or_default();
            let alone: Vec<bool> = some
                .iter()
                .map(|(message, signature)| strict.verify(message, signature))
                .collect();
            let together = StrictKey::verify_each(
                some.iter()
                    .map(|(message, signature)| (&strict, &message[..], signature)),
            );
            assert_eq!(together, alone, "{n} signatures");
            assert!(n < 5 || alone.contains(&true) && alone.contains(&false));
        }
    }

    /// ℓ, the order of the base point, little-endian.
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    #[test]
    fn a_non_canonical_s_is_rejected() {
        assert_eq!(Scalar::from_bytes_mod_order(ORDER), Scalar::ZERO);
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let message = b"report";
        let signature = key.sign(message);
        assert!(assert_same(&key.verifying_key(), message, &signature));
        // s + ℓ verifies under the unreduced equation but is not canonical.
        let s = Scalar::from_bytes_mod_order(*signature.s_bytes());
        let mut s_plus_l = [0u8; 32];
        let mut carry = 0u16;
        for (i, byte) in s_plus_l.iter_mut().enumerate() {
            let sum = u16::from(s.as_bytes()[i]) + u16::from(ORDER[i]) + carry;
            *byte = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "s + ℓ fits in 32 bytes");
        let forged = signature_from(*signature.r_bytes(), s_plus_l);
        assert!(!assert_same(&key.verifying_key(), message, &forged));
    }

    #[test]
    fn every_small_order_r_is_rejected_where_the_equation_holds() {
        use ed25519_dalek::Verifier as _;
        // A key with a component of order 8: A = [a]B + T. With nonce 0 and s = k·a, the
        // recomputed point [s]B - [k]A is -[k]T, which runs through every point of small
        // order as k does; a message is ground until it is the R the signature names, so the
        // cofactorless equation holds and only the small-order rule can reject.
        let secret = secret_of(&SigningKey::from_bytes(&[5u8; 32]));
        let order_eight = EIGHT_TORSION[1];
        let key_bytes = (ED25519_BASEPOINT_POINT * secret + order_eight)
            .compress()
            .to_bytes();
        let key = VerifyingKey::from_bytes(&key_bytes).expect("a curve point");
        assert!(!key.is_weak());
        for target in EIGHT_TORSION {
            let r = target.compress().to_bytes();
            let (message, k) = (0u32..)
                .map(|i| {
                    let message = i.to_le_bytes();
                    (message, challenge(&r, &key_bytes, &message))
                })
                .find(|(_, k)| -(order_eight * k) == target)
                .expect("k runs through every residue modulo 8");
            let signature = signature_from(r, (k * secret).to_bytes());
            assert!(
                key.verify(&message, &signature).is_ok(),
                "the equation holds"
            );
            assert!(!assert_same(&key, &message, &signature));
            // The other sign bit is not canonical (or another point of small order).
            let mut flipped = r;
            flipped[31] ^= 0x80;
            assert!(!assert_same(
                &key,
                &message,
                &signature_from(flipped, *signature.s_bytes())
            ));
        }
    }

    #[test]
    fn r_or_a_key_with_a_torsion_component_gets_the_same_verdict() {
        let message = b"mixed order";
        let (mut torsioned_r_accepted, mut torsioned_key_accepted) = (0, 0);
        for seed in 0..16u8 {
            let key = SigningKey::from_bytes(&[seed; 32]);
            let secret = secret_of(&key);
            let public = key.verifying_key();
            // Skip the identity: its cases are honest signatures.
            for (i, torsion) in EIGHT_TORSION.iter().enumerate().skip(1) {
                let nonce = Scalar::from(u64::from(seed) * 31 + i as u64 + 1);
                // R with a torsion component, under the honest key: never accepted, since
                // [s]B - [k]A is then [nonce]B, which is not R.
                let nonce_point = ED25519_BASEPOINT_POINT * nonce + torsion;
                let signature = crafted(nonce, nonce_point, secret, public.as_bytes(), message);
                torsioned_r_accepted += usize::from(assert_same(&public, message, &signature));
                // A key with a torsion component: accepted when k kills the torsion (k ≡ 0
                // modulo its order), else rejected, by both.
                let mixed_bytes = (ED25519_BASEPOINT_POINT * secret + torsion)
                    .compress()
                    .to_bytes();
                let mixed_key = VerifyingKey::from_bytes(&mixed_bytes).expect("a curve point");
                let signature = crafted(
                    nonce,
                    ED25519_BASEPOINT_POINT * nonce,
                    secret,
                    &mixed_bytes,
                    message,
                );
                torsioned_key_accepted += usize::from(assert_same(&mixed_key, message, &signature));
                // And both at once: R's torsion cancels the key's only by chance.
                let signature = crafted(nonce, nonce_point, secret, &mixed_bytes, message);
                assert_same(&mixed_key, message, &signature);
            }
        }
        assert_eq!(torsioned_r_accepted, 0);
        // About a fifth of the 112 cases (k ≡ 0 modulo the torsion's order: 2, 4 or 8), and
        // fewer than all.
        assert!(
            (10..100).contains(&torsioned_key_accepted),
            "{torsioned_key_accepted}"
        );
    }

    #[test]
    fn a_key_is_hashed_as_encoded_even_when_not_canonically() {
        // y + p for small y: the encodings decompression accepts although they are not
        // canonical. `verify_strict` hashes the bytes as given, and so must the challenge.
        let mut found = 0;
        for extra in 0u8..19 {
            let mut bytes = [0xffu8; 32];
            bytes[0] = 0xed + extra;
            bytes[31] = 0x7f;
            // Both decompressions (curve25519-dalek 5 here, 4.1 under ed25519-dalek) take
            // the same keys, with either sign.
            for sign in [0u8, 0x80] {
                let mut signed = bytes;
                signed[31] |= sign;
                assert_eq!(
                    StrictKey::from_bytes(&signed).is_some(),
                    VerifyingKey::from_bytes(&signed).is_ok_and(|key| !key.is_weak()),
                    "{signed:?}"
                );
            }
            let Some(strict) = StrictKey::from_bytes(&bytes) else {
                continue;
            };
            found += 1;
            assert_eq!(strict.encoded, bytes);
            let key = VerifyingKey::from_bytes(&bytes).expect("decoded above");
            let signature = signature_from(ED25519_BASEPOINT_POINT.compress().to_bytes(), [1; 32]);
            assert!(!assert_same(&key, b"m", &signature));
        }
        assert!(
            found > 0,
            "no non-canonical key of large order among y < 19"
        );
    }

    #[test]
    fn keys_of_small_order_make_no_strict_key() {
        for torsion in EIGHT_TORSION {
            let bytes = torsion.compress().to_bytes();
            assert!(StrictKey::from_bytes(&bytes).is_none());
            if let Ok(key) = VerifyingKey::from_bytes(&bytes) {
                assert!(key
                    .verify_strict(b"m", &signature_from([0; 32], [0; 32]))
                    .is_err());
            }
        }
    }

    #[test]
    fn r_not_on_the_curve_or_non_canonical_is_rejected() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let public = key.verifying_key();
        let message = b"encodings";
        let signature = key.sign(message);
        // y = p + 1 encodes the identity non-canonically; y = p + 2 ... off or on the curve.
        for extra in 0u8..19 {
            let mut r = [0xffu8; 32];
            r[0] = 0xed + extra;
            r[31] = 0x7f;
            for sign in [0u8, 0x80] {
                let mut r = r;
                r[31] |= sign;
                let forged = signature_from(r, *signature.s_bytes());
                assert!(!assert_same(&public, message, &forged));
            }
        }
    }

    #[test]
    fn a_busy_key_builds_its_table_and_keeps_every_verdict() {
        let key = SigningKey::from_bytes(&[11u8; 32]);
        let strict = StrictKey::new(&key.verifying_key()).expect("a key of large order");
        let messages: Vec<Vec<u8>> = (0..TABULATED_AFTER + 40)
            .map(|i| format!("report {i}").into_bytes())
            .collect();
        // Every third signature is of another message.
        let signatures: Vec<Signature> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| key.sign(if i % 3 == 0 { b"other" } else { m }))
            .collect();
        let expected: Vec<bool> = (0..messages.len()).map(|i| i % 3 != 0).collect();
        let verdicts = StrictKey::verify_each(
            messages
                .iter()
                .zip(&signatures)
                .map(|(m, s)| (&strict, m.as_slice(), s)),
        );
        assert_eq!(verdicts, expected);
        assert!(
            strict.multiples.get().is_some(),
            "no table after {} signatures",
            messages.len()
        );
        // A clone shares the table.
        let clone = strict.clone();
        assert!(std::ptr::eq(
            clone
                .multiples
                .get()
                .map(Arc::as_ptr)
                .unwrap_or(std::ptr::null()),
            strict
                .multiples
                .get()
                .map(Arc::as_ptr)
                .unwrap_or(std::ptr::null())
        ));
        assert!(StrictKey::new(&key.verifying_key())
            .expect("a key of large order")
            .multiples
            .get()
            .is_none());
    }
}
