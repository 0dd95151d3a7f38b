//! C2SP `signed-note` (Ed25519, type `0x01`) and C2SP `tlog-cosignature` (timestamped
//! Ed25519 cosignatures, type `0x04`).
//!
//! A note is UTF-8 text ending in a newline, a blank line, and one or more lines
//! `— <key name> base64(key ID || signature)`. Key IDs are the first four bytes of
//! `SHA-256(name || 0x0A || type || public key)`; verifier keys are written
//! `name+hex(key ID)+base64(type || public key)`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type byte of plain Ed25519 note signatures.
pub const SIGNATURE_TYPE_ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 cosignatures (`cosignature/v1`).
pub const SIGNATURE_TYPE_COSIGNATURE_V1: u8 = 0x04;
/// Largest note accepted, in bytes: checkpoints are a few hundred bytes even with dozens of
/// cosignatures, so anything larger is refused before parsing.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// Most signature lines accepted in one note (the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 128;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note, a key or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note does not follow the signed-note format.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A verifier or signer key string is malformed.
    #[error("malformed key {key:?}: {reason}")]
    MalformedKey {
        /// The key as given (secret keys are never echoed).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key name is empty or has a space or a plus sign.
    #[error("invalid key name {0:?}: names must be non-empty, without spaces or '+'")]
    InvalidName(String),
    /// A signature from a known key does not verify.
    #[error("signature by {name}+{id:08x} does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key ID.
        id: u32,
    },
    /// No signature from a known key is on the note.
    #[error("no signature by a known key (signed by: {signed_by})")]
    NoKnownSignature {
        /// The `name+id` of every signature present.
        signed_by: String,
    },
}

/// Computes a key ID: the first four bytes, big-endian, of
/// `SHA-256(name || 0x0A || signature_type || public_key)`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', signature_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::InvalidName(name.to_owned()));
    }
    Ok(())
}

/// Signs notes with an Ed25519 key under a key name, either as a log (type `0x01`) or as a
/// cosigner (type `0x04`).
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    signature_type: u8,
    id: u32,
}

impl NoteSigner {
    /// A log signer (type `0x01`) from a 32-byte Ed25519 seed.
    pub fn ed25519(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        NoteSigner::with_type(name, seed, SIGNATURE_TYPE_ED25519)
    }

    /// A witness cosigner (type `0x04`, `cosignature/v1`) from a 32-byte Ed25519 seed.
    pub fn cosigner(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        NoteSigner::with_type(name, seed, SIGNATURE_TYPE_COSIGNATURE_V1)
    }

    fn with_type(name: &str, seed: &[u8; 32], signature_type: u8) -> Result<NoteSigner, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, signature_type, key.verifying_key().as_bytes());
        Ok(NoteSigner {
            name: name.to_owned(),
            key,
            signature_type,
            id,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The verifier for this signer's signatures.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            signature_type: self.signature_type,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must end in a newline). For a log key the signature covers the
    /// text; for a cosigner it covers `cosignature/v1\ntime <timestamp>\n` followed by the
    /// text, and `timestamp` (POSIX seconds) is carried in the signature.
    pub fn sign(&self, text: &str, timestamp: u64) -> NoteSignature {
        let mut bytes = Vec::with_capacity(8 + 64);
        if self.signature_type == SIGNATURE_TYPE_COSIGNATURE_V1 {
            bytes.extend_from_slice(&timestamp.to_be_bytes());
            let message = cosignature_message(text, timestamp);
            bytes.extend_from_slice(&self.key.sign(message.as_bytes()).to_bytes());
        } else {
            bytes.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes());
        }
        NoteSignature {
            name: self.name.clone(),
            id: self.id,
            bytes,
        }
    }
}

fn cosignature_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// Checks signatures of one key: a log key (type `0x01`) or a cosigner key (type `0x04`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    signature_type: u8,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key `name+hex(id)+base64(type || public key)`, checking that the
    /// key ID matches the key.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let malformed = |reason: &str| NoteError::MalformedKey {
            key: vkey.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected name+id+key"));
        };
        check_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("key ID must be 8 hexadecimal digits"));
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| malformed("bad key ID"))?;
        let raw = STANDARD
            .decode(key_b64)
            .map_err(|_| malformed("key is not standard base64"))?;
        let Some((&signature_type, public)) = raw.split_first() else {
            return Err(malformed("empty key"));
        };
        if signature_type != SIGNATURE_TYPE_ED25519
            && signature_type != SIGNATURE_TYPE_COSIGNATURE_V1
        {
            return Err(malformed("unsupported signature type (want 0x01 or 0x04)"));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| malformed("an Ed25519 public key has 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&public).map_err(|_| malformed("not an Ed25519 point"))?;
        if key_id(name, signature_type, &public) != id {
            return Err(malformed("key ID does not match the name and key"));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            id,
            signature_type,
            key,
        })
    }

    /// A log verifier (type `0x01`) from a name and a 32-byte public key.
    pub fn ed25519(name: &str, public_key: &[u8; 32]) -> Result<NoteVerifier, NoteError> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| NoteError::MalformedKey {
            key: name.to_owned(),
            reason: "not an Ed25519 point".to_owned(),
        })?;
        Ok(NoteVerifier {
            name: name.to_owned(),
            id: key_id(name, SIGNATURE_TYPE_ED25519, public_key),
            signature_type: SIGNATURE_TYPE_ED25519,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Whether this is a cosigner key (type `0x04`).
    pub fn is_cosigner(&self) -> bool {
        self.signature_type == SIGNATURE_TYPE_COSIGNATURE_V1
    }

    /// Checks one signature over `text`; for a cosigner key, returns its timestamp.
    fn check(&self, text: &str, signature: &NoteSignature) -> Result<Option<u64>, NoteError> {
        let bad = || NoteError::BadSignature {
            name: self.name.clone(),
            id: self.id,
        };
        if self.signature_type == SIGNATURE_TYPE_COSIGNATURE_V1 {
            let (time, sig) = signature.bytes.split_at_checked(8).ok_or_else(bad)?;
            let time: [u8; 8] = time.try_into().map_err(|_| bad())?;
            let timestamp = u64::from_be_bytes(time);
            if timestamp > i64::MAX as u64 {
                return Err(bad());
            }
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| bad())?;
            let message = cosignature_message(text, timestamp);
            self.key
                .verify_strict(message.as_bytes(), &sig)
                .map_err(|_| bad())?;
            Ok(Some(timestamp))
        } else {
            let sig = ed25519_dalek::Signature::from_slice(&signature.bytes).map_err(|_| bad())?;
            self.key
                .verify_strict(text.as_bytes(), &sig)
                .map_err(|_| bad())?;
            Ok(None)
        }
    }
}

impl std::fmt::Display for NoteVerifier {
    /// The verifier key string `name+hex(id)+base64(type || public key)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![self.signature_type];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub id: u32,
    /// Signature bytes after the key ID (for cosignatures: timestamp then signature).
    pub bytes: Vec<u8>,
}

impl NoteSignature {
    /// The line `— name base64(id || bytes)` with its newline.
    pub fn to_line(&self) -> String {
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.bytes);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }
}

/// A parsed, not yet verified, signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note, checking its form but no signature.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        let malformed = |reason: String| NoteError::Malformed(reason);
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(malformed(format!(
                "{} bytes, more than the limit of {MAX_NOTE_BYTES}",
                bytes.len()
            )));
        }
        let all = std::str::from_utf8(bytes)
            .map_err(|e| malformed(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
        if let Some(position) = all.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(malformed(format!("control character at byte {position}")));
        }
        let split = all
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures".to_owned()))?;
        let text = &all[..split + 1];
        let block = &all[split + 2..];
        if !block.ends_with('\n') {
            return Err(malformed(
                "the last signature line does not end in a newline".to_owned(),
            ));
        }
        let text_lines = text.lines().count();
        let mut signatures = Vec::new();
        for (offset, line) in block[..block.len() - 1].split('\n').enumerate() {
            let line_number = text_lines + 2 + offset;
            if signatures.len() == MAX_SIGNATURES {
                return Err(malformed(format!(
                    "more than {MAX_SIGNATURES} signatures (line {line_number})"
                )));
            }
            signatures.push(
                parse_signature_line(line)
                    .map_err(|reason| malformed(format!("line {line_number}: {reason}")))?,
            );
        }
        if signatures.is_empty() {
            return Err(malformed("no signature lines".to_owned()));
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note as bytes: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        out
    }

    /// Verifies the note against trusted keys. Signatures by unknown keys (name and ID not
    /// both matching a trusted key) are ignored; a signature by a trusted key that fails to
    /// verify rejects the whole note; at least one trusted signature must verify.
    pub fn verify(&self, trusted: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
        let mut verified = Vec::new();
        for signature in &self.signatures {
            let Some(verifier) = trusted
                .iter()
                .find(|v| v.name == signature.name && v.id == signature.id)
            else {
                continue;
            };
            let timestamp = verifier.check(&self.text, signature)?;
            verified.push(VerifiedSignature {
                verifier: verifier.to_string(),
                timestamp,
            });
        }
        if verified.is_empty() {
            let signed_by: Vec<String> = self
                .signatures
                .iter()
                .map(|s| format!("{}+{:08x}", s.name, s.id))
                .collect();
            return Err(NoteError::NoKnownSignature {
                signed_by: signed_by.join(", "),
            });
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            signatures: verified,
        })
    }
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, String> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or("a signature line starts with an em dash and a space")?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or("expected a key name, a space and a base64 signature")?;
    check_name(name).map_err(|e| e.to_string())?;
    let raw = STANDARD
        .decode(encoded)
        .map_err(|_| "signature is not standard base64".to_owned())?;
    if raw.len() < 5 {
        return Err("signature shorter than a key ID and one byte".to_owned());
    }
    let (id, bytes) = raw.split_at(4);
    let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    Ok(NoteSignature {
        name: name.to_owned(),
        id,
        bytes: bytes.to_vec(),
    })
}

/// A note whose signatures by trusted keys all verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed text.
    pub text: String,
    /// The trusted signatures that verified.
    pub signatures: Vec<VerifiedSignature>,
}

/// One verified signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Verifier key string of the signer.
    pub verifier: String,
    /// For a cosignature, the time it was made (POSIX seconds).
    pub timestamp: Option<u64>,
}

/// Signs `text` (ending in a newline) with each signer and returns the note.
pub fn sign_note(text: &str, signers: &[&NoteSigner], timestamp: u64) -> Result<String, NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "note text must end in a newline".to_owned(),
        ));
    }
    let note = Note {
        text: text.to_owned(),
        signatures: signers.iter().map(|s| s.sign(text, timestamp)).collect(),
    };
    Ok(note.to_text())
}

/// Adds a cosignature to a signed note (for example a checkpoint), keeping the existing
/// signatures and replacing an earlier one by the same key.
pub fn add_cosignature(
    note: &[u8],
    cosigner: &NoteSigner,
    timestamp: u64,
) -> Result<String, NoteError> {
    let mut parsed = Note::parse(note)?;
    parsed
        .signatures
        .retain(|s| !(s.name == cosigner.name && s.id == cosigner.id));
    parsed
        .signatures
        .push(cosigner.sign(&parsed.text, timestamp));
    Ok(parsed.to_text())
}
