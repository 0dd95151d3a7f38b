//! Signing entries and checking that the agreement authorises their signer.
//!
//! The signed message is the RFC 8785 (JCS) canonical form of the entry object as received,
//! without its `signature` member, so a verifier in any language needs only a JSON parser, a
//! JCS serializer and Ed25519. The signature is written `ed25519:BASE64` (standard alphabet,
//! padded, 64 bytes). Verification is strict (`verify_strict`'s verdicts, computed by
//! [`super::strict::StrictKey`]): it rejects small-order keys and non-canonical signatures
//! (S ≥ L), so evidence cannot verify on one machine and fail on another.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use serde_json::{Map, Value};

use super::canonical::{sorted_members, write_members};
use super::strict::StrictKey;
use super::types::{Entry, Report};
use super::validate::ParsedEntry;
use crate::agreement::model::{Agreement, ObservationMode, PublicKey, Role};

/// The prefix of public keys and signatures as written in agreements and entries.
pub const ED25519_PREFIX: &str = "ed25519:";

/// Why a key or signature string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("must start with `ed25519:`")]
    MissingPrefix,
    #[error("not padded standard base64: {0}")]
    Base64(String),
    #[error("decodes to {found} bytes; expected {expected}")]
    Length { found: usize, expected: usize },
}

fn decode_prefixed<const N: usize>(text: &str) -> Result<[u8; N], EncodingError> {
    let body = text
        .strip_prefix(ED25519_PREFIX)
        .ok_or(EncodingError::MissingPrefix)?;
    let bytes = BASE64
        .decode(body)
        .map_err(|e| EncodingError::Base64(e.to_string()))?;
    let found = bytes.len();
    bytes
        .try_into()
        .map_err(|_| EncodingError::Length { found, expected: N })
}

/// Reads a public key written `ed25519:BASE64(32 bytes)`.
pub fn parse_public_key(text: &str) -> Result<PublicKey, EncodingError> {
    decode_prefixed::<32>(text).map(PublicKey)
}

/// Writes a public key as `ed25519:BASE64(32 bytes)`, the form agreements list.
pub fn format_public_key(key: &PublicKey) -> String {
    format!("{ED25519_PREFIX}{}", BASE64.encode(key.0))
}

/// Reads a signature written `ed25519:BASE64(64 bytes)`.
pub fn parse_signature(text: &str) -> Result<Signature, EncodingError> {
    decode_prefixed::<64>(text).map(|bytes| Signature::from_bytes(&bytes))
}

/// Writes a signature as `ed25519:BASE64(64 bytes)`.
pub fn format_signature(signature: &Signature) -> String {
    format!("{ED25519_PREFIX}{}", BASE64.encode(signature.to_bytes()))
}

/// Why an entry could not be signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("an entry must be a JSON object")]
    NotAnObject,
    #[error("no RFC 8785 canonical form: {0}")]
    Canonical(String),
}

/// The bytes an entry's signature covers: the RFC 8785 canonical form of `object` without
/// its `signature` member.
pub fn signed_message(object: &Map<String, Value>) -> Result<Vec<u8>, SignError> {
    canonical_forms(object).map(|forms| forms.signed)
}

/// The RFC 8785 canonical form of a JSON object.
pub fn canonical_bytes(object: &Map<String, Value>) -> Result<Vec<u8>, SignError> {
    canonical_json(object)
}

/// An entry's two canonical forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalForms {
    /// Without `signature`: the bytes the signature covers.
    pub signed: Vec<u8>,
    /// With `signature` (if the object has one): the bytes to store and log.
    pub full: Vec<u8>,
}

/// Both canonical forms of an entry object, written from one sorting of its members: the
/// signed one is the full one without the `signature` member.
pub fn canonical_forms(object: &Map<String, Value>) -> Result<CanonicalForms, SignError> {
    let members = sorted_members(object);
    let capacity = 512;
    let mut full = Vec::with_capacity(capacity);
    let mut signed = Vec::with_capacity(capacity);
    write_members(&mut full, members.iter().copied())?;
    write_members(
        &mut signed,
        members
            .iter()
            .copied()
            .filter(|(name, _)| *name != "signature"),
    )?;
    Ok(CanonicalForms { signed, full })
}

fn canonical_json(object: &Map<String, Value>) -> Result<Vec<u8>, SignError> {
    let mut out = Vec::with_capacity(512);
    write_members(&mut out, sorted_members(object))?;
    Ok(out)
}

/// Signs an entry: returns it as a JSON object with its `signature` member set (replacing
/// any existing one) to the Ed25519 signature of its canonical form without `signature`.
///
/// `entry` is anything that serializes to a JSON object: a [`Value`] as received, or a typed
/// [`super::types::Report`], [`Entry`] and so on (what a simulator builds). It does not
/// validate the entry; callers that want to refuse signing an invalid entry check it with
/// [`super::parse_entry_value`] first.
pub fn sign_entry<T: serde::Serialize>(entry: &T, key: &SigningKey) -> Result<Value, SignError> {
    let value = serde_json::to_value(entry).map_err(|e| SignError::Canonical(e.to_string()))?;
    let Value::Object(mut object) = value else {
        return Err(SignError::NotAnObject);
    };
    object.remove("signature");
    let message = canonical_bytes(&object)?;
    let signature = key.sign(&message);
    object.insert(
        "signature".to_string(),
        Value::String(format_signature(&signature)),
    );
    Ok(Value::Object(object))
}

/// The public key of a signing key, as the agreement model holds it.
pub fn public_key_of(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// Why an entry's signer is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("entry is for agreement `{found}`, not `{expected}`")]
    WrongAgreement { found: String, expected: String },
    #[error("{} `{id}` is not listed in the agreement", role_name(*.role))]
    UnknownSigner { role: Role, id: String },
    #[error("{} `{id}` has no usable key in the agreement", role_name(*.role))]
    NoKeys { role: Role, id: String },
    #[error("the entry has no `signature`")]
    Unsigned,
    #[error("/signature: {0}")]
    BadSignatureEncoding(EncodingError),
    #[error("no RFC 8785 canonical form: {0}")]
    Canonical(String),
    #[error(
        "signed by a key of {} `{signer_id}`, not a key of {} `{id}`",
        role_name(*.signer_role),
        role_name(*.role)
    )]
    SignedByOther {
        role: Role,
        id: String,
        signer_role: Role,
        signer_id: String,
    },
    #[error(
        "not signed by a key of {} `{id}` (strict Ed25519): the entry was changed after \
         signing, or signed with a key the agreement does not list for it",
        role_name(*.role)
    )]
    BadSignature { role: Role, id: String },
    #[error(
        "/mode: monitor `{monitor}` is not registered for observation mode `{mode}` \
         (the agreement lists: {registered})"
    )]
    ModeNotRegistered {
        monitor: String,
        mode: String,
        registered: String,
    },
    #[error("/attribution/party: `{party}` is not a party to the agreement")]
    UnknownParty { party: String },
}

/// How a role is named in messages.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Monitor => "monitor",
        Role::Guarantor => "guarantor",
        Role::Party => "party",
        Role::Panel => "panel member",
    }
}

/// The most keys tried, after a signature fails, to name the signer whose key did make it.
pub const DIAGNOSIS_KEYS_MAX: usize = 32;

/// What [`KeyRing::authorise`] established about an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorised {
    pub role: Role,
    /// The agreement key that verified the signature.
    pub key: PublicKey,
    /// The entry's canonical forms: `signed` is the message the signature covers.
    pub canonical: CanonicalForms,
}

/// The keys of one agreement, decoded once, by role and signer id.
///
/// Decoding a key (point decompression) costs a sizeable part of a verification,
/// so a reader checking many entries builds one ring and reuses it. Keys that do not decode
/// to a curve point, or are of small order (weak), are left out: they could never pass strict
/// verification. Signatures are checked by [`StrictKey`], which gives `verify_strict`'s
/// verdicts without decompressing `R` and, for a reader of many entries, with one field
/// inversion for a group of them ([`StrictKey::verify_each`]).
#[derive(Clone, Debug)]
pub struct KeyRing {
    agreement_id: String,
    signers: BTreeMap<Role, BTreeMap<String, Vec<(PublicKey, StrictKey)>>>,
    /// Each monitor's registered observation modes: a report may only claim one of them,
    /// or a patrol could pass an evidence standard's "UAV alone" rule.
    monitor_modes: BTreeMap<String, Vec<ObservationMode>>,
    parties: BTreeSet<String>,
}

impl KeyRing {
    /// Decodes every key the agreement lists.
    pub fn new(agreement: &Agreement) -> Self {
        let mut signers: BTreeMap<Role, BTreeMap<String, Vec<(PublicKey, StrictKey)>>> =
            BTreeMap::new();
        let lists = agreement
            .monitors
            .iter()
            .map(|(id, m)| (Role::Monitor, id, &m.keys))
            .chain(
                agreement
                    .guarantors
                    .iter()
                    .map(|(id, g)| (Role::Guarantor, id, &g.keys)),
            )
            .chain(
                agreement
                    .parties
                    .iter()
                    .map(|(id, p)| (Role::Party, id, &p.keys)),
            )
            .chain(
                agreement
                    .panel
                    .iter()
                    .map(|(id, p)| (Role::Panel, id, &p.keys)),
            );
        for (role, id, keys) in lists {
            let usable = keys
                .iter()
                .filter_map(|key| Some((*key, StrictKey::from_bytes(&key.0)?)))
                .collect();
            signers.entry(role).or_default().insert(id.clone(), usable);
        }
        KeyRing {
            agreement_id: agreement.id.clone(),
            signers,
            monitor_modes: agreement
                .monitors
                .iter()
                .map(|(id, m)| (id.clone(), m.modes.clone()))
                .collect(),
            parties: agreement.parties.keys().cloned().collect(),
        }
    }

    /// Checks that the entry is for this agreement, that its signer is listed under the role
    /// its kind requires (a report's `monitor`, an action's `guarantor`, an objection's
    /// `party`, a ruling's `panelist`, a retraction's `monitor`), and that its signature
    /// verifies strictly under one of that signer's keys.
    pub fn authorise(&self, parsed: &ParsedEntry) -> Result<Authorised, AuthError> {
        let (role, key, canonical) = self.authorise_with(
            &parsed.entry,
            || canonical_forms(&parsed.object),
            |forms: &CanonicalForms| &forms.signed,
        )?;
        Ok(Authorised {
            role,
            key,
            canonical,
        })
    }

    /// [`KeyRing::authorise`] for an entry whose canonical form `canonical` computes (from
    /// whatever tree the entry was read into), `signed` picking from it the message the
    /// signature covers. The checks, their order and their errors are the same for every
    /// caller; the form is computed only once the signer is known to be listed.
    pub(crate) fn authorise_with<C>(
        &self,
        entry: &Entry,
        canonical: impl FnOnce() -> Result<C, SignError>,
        signed: impl Fn(&C) -> &[u8],
    ) -> Result<(Role, PublicKey, C), AuthError> {
        self.check_all_but_signature(entry, canonical)?
            .finish(self, entry, signed, None)
    }

    /// The checks of [`KeyRing::authorise_with`] that come before the signature's, and the
    /// canonical form: what is left is the [`SignatureCheck`], which a reader of many entries
    /// verifies for a batch of them at once.
    pub(crate) fn check_all_but_signature<C>(
        &self,
        entry: &Entry,
        canonical: impl FnOnce() -> Result<C, SignError>,
    ) -> Result<SignatureCheck<'_, C>, AuthError> {
        if entry.agreement() != self.agreement_id {
            return Err(AuthError::WrongAgreement {
                found: entry.agreement().to_string(),
                expected: self.agreement_id.clone(),
            });
        }
        let (role, id) = entry.signer();
        let keys = self
            .signers
            .get(&role)
            .and_then(|by_id| by_id.get(id))
            .ok_or_else(|| AuthError::UnknownSigner {
                role,
                id: id.to_string(),
            })?;
        let Some((first, others)) = keys.split_first() else {
            return Err(AuthError::NoKeys {
                role,
                id: id.to_string(),
            });
        };
        if let Entry::Report(report) = entry {
            self.check_report_against_agreement(report)?;
        }
        let signature = signature_of(entry)?;
        let canonical = canonical().map_err(|e| AuthError::Canonical(e.to_string()))?;
        Ok(SignatureCheck {
            role,
            first,
            others,
            signature,
            canonical,
        })
    }

    /// A report may claim only an observation mode its monitor is registered for (a monitor
    /// registered with no modes is unrestricted), and attribute only to a party of the
    /// agreement.
    fn check_report_against_agreement(&self, report: &Report) -> Result<(), AuthError> {
        if let Some(modes) = self.monitor_modes.get(&report.monitor) {
            if !modes.is_empty() && !modes.contains(&report.mode) {
                let name = |m: &ObservationMode| {
                    serde_json::to_value(m)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                };
                return Err(AuthError::ModeNotRegistered {
                    monitor: report.monitor.clone(),
                    mode: name(&report.mode),
                    registered: modes.iter().map(name).collect::<Vec<_>>().join(", "),
                });
            }
        }
        if let Some(attribution) = &report.attribution {
            if !self.parties.contains(&attribution.party) {
                return Err(AuthError::UnknownParty {
                    party: attribution.party.clone(),
                });
            }
        }
        Ok(())
    }

    /// After a failure, says whether another listed signer's key made the signature: the
    /// common mistake of signing with the wrong key file. Keys of the same role are tried
    /// first, and at most [`DIAGNOSIS_KEYS_MAX`] keys in all, so a flood of forged entries
    /// costs a bounded multiple of the verifications it would cost anyway.
    fn diagnose(&self, role: Role, id: &str, message: &[u8], signature: &Signature) -> AuthError {
        let roles_in_order = self
            .signers
            .get_key_value(&role)
            .into_iter()
            .chain(self.signers.iter().filter(|(r, _)| **r != role));
        let candidates = roles_in_order
            .flat_map(|(r, by_id)| by_id.iter().map(move |(signer, keys)| (*r, signer, keys)))
            .filter(|(r, signer, _)| (*r, signer.as_str()) != (role, id))
            .flat_map(|(r, signer, keys)| keys.iter().map(move |(_, key)| (r, signer, key)))
            .take(DIAGNOSIS_KEYS_MAX);
        for (signer_role, signer_id, key) in candidates {
            if key.verify(message, signature) {
                return AuthError::SignedByOther {
                    role,
                    id: id.to_string(),
                    signer_role,
                    signer_id: signer_id.clone(),
                };
            }
        }
        AuthError::BadSignature {
            role,
            id: id.to_string(),
        }
    }
}

fn signature_of(entry: &Entry) -> Result<Signature, AuthError> {
    let text = entry.signature().ok_or(AuthError::Unsigned)?;
    parse_signature(text).map_err(AuthError::BadSignatureEncoding)
}

/// An entry that passed every check of [`KeyRing::authorise`] but the signature's, with its
/// canonical form: the signature remains to be verified under its signer's keys, in order.
pub(crate) struct SignatureCheck<'k, C> {
    role: Role,
    first: &'k (PublicKey, StrictKey),
    others: &'k [(PublicKey, StrictKey)],
    signature: Signature,
    canonical: C,
}

impl<'k, C> SignatureCheck<'k, C> {
    /// The first verification to make: the signer's first key, the signed message (which
    /// `signed` picks from the canonical form) and the signature. Almost every entry is
    /// signed with it, so a reader verifies these for a batch of entries at once.
    pub(crate) fn first_verification<'s>(
        &'s self,
        signed: impl Fn(&C) -> &[u8],
    ) -> (&'k StrictKey, &'s [u8], &'s Signature) {
        (&self.first.1, signed(&self.canonical), &self.signature)
    }

    /// The signer's role and key, and the canonical form, if the signature verifies under
    /// one of the signer's keys; else why not. `first_verdict` is the verdict of
    /// [`SignatureCheck::first_verification`] if it was already made.
    pub(crate) fn finish(
        self,
        ring: &KeyRing,
        entry: &Entry,
        signed: impl Fn(&C) -> &[u8],
        first_verdict: Option<bool>,
    ) -> Result<(Role, PublicKey, C), AuthError> {
        let message = signed(&self.canonical);
        let first = first_verdict
            .unwrap_or_else(|| self.first.1.verify(message, &self.signature))
            .then_some(self.first);
        let key = first.or_else(|| {
            self.others
                .iter()
                .find(|(_, strict)| strict.verify(message, &self.signature))
        });
        match key {
            Some((key, _)) => Ok((self.role, *key, self.canonical)),
            None => {
                let (role, id) = entry.signer();
                Err(ring.diagnose(role, id, message, &self.signature))
            }
        }
    }
}

/// Checks one entry against an agreement (see [`KeyRing::authorise`]) and returns the role
/// its signer holds. To check many entries, build a [`KeyRing`] once instead.
pub fn authorise(parsed: &ParsedEntry, agreement: &Agreement) -> Result<Role, AuthError> {
    KeyRing::new(agreement)
        .authorise(parsed)
        .map(|authorised| authorised.role)
}
