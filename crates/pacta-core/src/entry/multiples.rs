//! Tables of a point's multiples, for a variable-time scalar multiplication with no
//! doublings: the product `[s]B - [k]A` of a strict verification, for a key that signs many
//! entries.
//!
//! curve25519-dalek's `vartime_double_scalar_mul_basepoint` shares about 253 doublings
//! between the two products and adds about 70 table points; the doublings are most of a
//! signature's cost. A replay verifies thousands of signatures under each monitor's key, so
//! it pays to write each scalar in signed base 2^[`WINDOW_BITS`] and keep, for the basepoint
//! and for each busy key, every multiple `[d·2^(W·i)]P` a digit can ask for: a product is
//! then one addition per digit. Measured on the benchmark machine, one core: 12.9 µs for
//! `[s]B - [k]A` against 34.5 to 36.4 µs, for 640 KiB and 2.7 ms of building per table (with
//! windows of 7 bits, 14.3 µs for 370 KiB; of 4 bits, 22.4 µs for 80 KiB).
//!
//! The time taken depends on the scalars, which is safe here: a verification's inputs (the
//! key, the signature, the message) are all public.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;

/// The bits of a scalar each table row covers.
const WINDOW_BITS: usize = 8;

/// Digits of a scalar below 2^253; every reduced scalar is (ℓ < 2^253).
const DIGITS: usize = 253usize.div_ceil(WINDOW_BITS);

/// Multiples per row: digits `d` run over `-HALF..HALF`, and `-d` is a negation of `d`'s.
const HALF: usize = 1 << (WINDOW_BITS - 1);

// The top window holds the scalar's last bits and a carry, and must stay a digit below
// `HALF`, so that no carry leaves it: fewer than `WINDOW_BITS - 1` bits may be left for it.
const _: () = assert!(253 - WINDOW_BITS * (DIGITS - 1) < WINDOW_BITS - 1);

/// `[d·2^(W·i)]P` for every row `i` below [`DIGITS`] and `d` in `1..=HALF`, row by row.
pub(crate) struct MultiplesTable {
    multiples: Box<[EdwardsPoint]>,
}

impl MultiplesTable {
    /// The multiples of `point` (any point, with or without a torsion component).
    pub(crate) fn new(point: &EdwardsPoint) -> Self {
        let mut multiples = Vec::with_capacity(DIGITS * HALF);
        let mut row_base = *point;
        for _ in 0..DIGITS {
            let mut multiple = row_base;
            multiples.push(multiple);
            for _ in 1..HALF {
                multiple += row_base;
                multiples.push(multiple);
            }
            // `[HALF]` of this row's base, doubled: `[2^W]` of it, the next row's base.
            row_base = multiple + multiple;
        }
        MultiplesTable {
            multiples: multiples.into_boxed_slice(),
        }
    }

    /// `sum + [scalar]P`, where `P` is the table's point and `scalar` is reduced.
    pub(crate) fn add_multiple(&self, mut sum: EdwardsPoint, scalar: &Scalar) -> EdwardsPoint {
        for (row, digit) in self.multiples.chunks_exact(HALF).zip(signed_digits(scalar)) {
            match digit {
                1.. => sum += row[usize::from(digit.unsigned_abs()) - 1],
                ..0 => sum -= row[usize::from(digit.unsigned_abs()) - 1],
                0 => {}
            }
        }
        sum
    }
}

impl std::fmt::Debug for MultiplesTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiplesTable")
            .field("multiples", &self.multiples.len())
            .finish()
    }
}

/// The digits `d_i` in `-HALF..HALF` with `scalar = Σ d_i·2^(W·i)`, lowest first.
fn signed_digits(scalar: &Scalar) -> [i16; DIGITS] {
    let bytes = scalar.as_bytes();
    let limbs: [u64; 4] = std::array::from_fn(|i| {
        let mut limb = [0u8; 8];
        limb.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_le_bytes(limb)
    });
    let window_mask = (1u64 << WINDOW_BITS) - 1;
    let mut digits = [0i16; DIGITS];
    let mut carry = 0i16;
    for (i, digit) in digits.iter_mut().enumerate() {
        let bit = i * WINDOW_BITS;
        let (limb, shift) = (bit / 64, bit % 64);
        let mut window = limbs[limb] >> shift;
        if shift + WINDOW_BITS > 64 && limb + 1 < limbs.len() {
            window |= limbs[limb + 1] << (64 - shift);
        }
        // At most `WINDOW_BITS` bits, so it fits; the carry is 0 or 1.
        let value = (window & window_mask) as i16 + carry;
        carry = i16::from(value >= HALF as i16);
        *digit = value - (carry << WINDOW_BITS);
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::traits::Identity;
    use proptest::prelude::*;

    #[test]
    fn digits_add_up_to_the_scalar_at_the_extremes() {
        let largest = -Scalar::ONE; // ℓ - 1
        for scalar in [Scalar::ZERO, Scalar::ONE, largest, largest - Scalar::ONE] {
            let mut sum = Scalar::ZERO;
            let mut weight = Scalar::ONE;
            let radix = Scalar::from(1u64 << WINDOW_BITS);
            for digit in signed_digits(&scalar) {
                assert!((-(HALF as i16)..HALF as i16).contains(&digit));
                let magnitude = Scalar::from(u64::from(digit.unsigned_abs()));
                sum += if digit < 0 { -magnitude } else { magnitude } * weight;
                weight *= radix;
            }
            assert_eq!(sum, scalar);
        }
    }

    proptest! {
        // Two tables of 4,096 points a case.
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn gives_the_product_the_double_scalar_multiplication_gives(
            s in any::<[u8; 32]>().prop_map(Scalar::from_bytes_mod_order),
            k in any::<[u8; 32]>().prop_map(Scalar::from_bytes_mod_order),
            secret in any::<[u8; 32]>(),
            torsion in 0usize..8,
        ) {
            // A key's point with any torsion component: the tables must not care.
            let key = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(secret))
                + EIGHT_TORSION[torsion];
            let expected =
                EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &key, &s);
            let basepoint = MultiplesTable::new(&ED25519_BASEPOINT_POINT);
            let keyed = MultiplesTable::new(&key);
            let product = keyed.add_multiple(
                basepoint.add_multiple(EdwardsPoint::identity(), &s),
                &k,
            );
            prop_assert_eq!(product.compress(), expected.compress());
        }
    }
}
