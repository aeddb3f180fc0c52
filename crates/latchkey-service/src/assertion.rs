//! Verifying a WebAuthn assertion (Web Authentication Level 3, §7.2) against a ceremony's
//! challenge and a stored passkey.
//!
//! webauthn-rs registers passkeys and writes the options a sign-in asks with; this module
//! checks the answer itself, step for step as `webauthn-rs-core` does for a passkey (user
//! verification required, the counter must move when either side has one, a passkey may
//! become backup-eligible but never stop being so), against the passkey as stored now
//! rather than as it was when the ceremony began. The other difference is the signature:
//! ES256, what every passkey platform uses, is verified with `ring`'s P-256 instead of the
//! pure-Rust one webauthn-rs verifies with, which was most of the CPU a passkey sign-in
//! took. Other algorithms fall back to webauthn-rs's own verification.

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    COSEAlgorithm, COSEKey, COSEKeyType, Credential, ECDSACurve, Passkey, PublicKeyCredential, Url,
};
use webauthn_rs_proto::CollectedClientData;

/// The authenticator data's flags (§6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const BACKUP_ELIGIBLE: u8 = 0x08;
const BACKUP_STATE: u8 = 0x10;
/// rpIdHash (32 bytes), flags (1), signCount (4).
const AUTH_DATA_MIN: usize = 37;

/// What the relying party checks every assertion against.
#[derive(Debug)]
pub(crate) struct RelyingParty {
    rp_id_hash: [u8; 32],
    origins: Vec<Url>,
}

impl RelyingParty {
    pub(crate) fn new(rp_id: &str, origins: Vec<Url>) -> Self {
        Self {
            rp_id_hash: Sha256::digest(rp_id.as_bytes()).into(),
            origins,
        }
    }
}

/// What the ceremony expects of the answer.
pub(crate) struct Expected<'a> {
    /// The challenge the options carried.
    pub challenge: &'a [u8],
    /// The user handle the passkey was registered with (the user's id); an answer that
    /// names another is refused.
    pub user_handle: &'a [u8],
    /// Whether the answer must name its user (a discoverable sign-in).
    pub user_handle_required: bool,
    /// Whether a passkey registered as not backup-eligible may now say it is.
    pub allow_backup_eligible_upgrade: bool,
}

/// A verified assertion's effect on the stored passkey: `Some` with the passkey to store
/// when its counter or backup flags moved.
pub(crate) type Updated = Option<Passkey>;

/// Why an assertion was refused, for the security event: its reason (`other_user`,
/// `replayed` or `invalid`) and, after a colon, what exactly.
pub(crate) type Refusal = String;

/// Verifies `answer` for `passkey` (already found by the answer's credential id).
pub(crate) fn verify(
    rp: &RelyingParty,
    expected: &Expected<'_>,
    answer: &PublicKeyCredential,
    passkey: &Passkey,
) -> Result<Updated, Refusal> {
    let mut cred: Credential = passkey.clone().into();
    if cred.cred_id.as_slice() != answer.raw_id.as_slice() {
        return Err("invalid: the answer is another credential's".to_owned());
    }
    let response = &answer.response;
    match &response.user_handle {
        Some(handle) if handle.as_slice() != expected.user_handle => {
            return Err("other_user".to_owned());
        }
        None if expected.user_handle_required => {
            return Err("invalid: no user handle".to_owned());
        }
        _ => {}
    }
    // §7.2 steps 10–14: the client data.
    let client: CollectedClientData = serde_json::from_slice(&response.client_data_json)
        .map_err(|e| format!("invalid: client data: {e}"))?;
    if client.type_ != "webauthn.get" {
        return Err("invalid: client data type".to_owned());
    }
    if client.challenge.as_slice() != expected.challenge {
        return Err("invalid: challenge".to_owned());
    }
    if !rp
        .origins
        .iter()
        .any(|o| webauthn_rs_proto::origin::origins_match(false, false, &client.origin, o))
    {
        return Err(format!("invalid: origin {}", client.origin));
    }
    if client.cross_origin == Some(true) {
        return Err("invalid: cross-origin".to_owned());
    }
    // Steps 15–18: the authenticator data.
    let data = response.authenticator_data.as_slice();
    if data.len() < AUTH_DATA_MIN {
        return Err("invalid: authenticator data too short".to_owned());
    }
    if data[..32] != rp.rp_id_hash {
        return Err("invalid: relying party id".to_owned());
    }
    let flags = data[32];
    if flags & USER_PRESENT == 0 {
        return Err("invalid: user not present".to_owned());
    }
    // A passkey requires user verification, whatever it was registered with.
    if flags & USER_VERIFIED == 0 {
        return Err("invalid: user not verified".to_owned());
    }
    let (eligible, backed_up) = (flags & BACKUP_ELIGIBLE != 0, flags & BACKUP_STATE != 0);
    if eligible != cred.backup_eligible
        && !(expected.allow_backup_eligible_upgrade && eligible && !cred.backup_eligible)
    {
        return Err("invalid: backup eligibility changed".to_owned());
    }
    if backed_up && !eligible {
        return Err("invalid: backed up but not backup-eligible".to_owned());
    }
    // Steps 19–21: the signature over the authenticator data and the client data's hash.
    let mut signed = Vec::with_capacity(data.len() + 32);
    signed.extend_from_slice(data);
    signed.extend_from_slice(&Sha256::digest(&response.client_data_json));
    if !signature_valid(&cred.cred, &response.signature, &signed) {
        return Err("invalid: signature".to_owned());
    }
    // Step 22: the signature counter. With the challenge right, a counter that did not
    // move is this ceremony's answer seen before (or a cloned authenticator).
    let counter = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    if (counter > 0 || cred.counter > 0) && counter <= cred.counter {
        return Err(format!(
            "replayed: the signature counter did not move ({counter}, stored {}): an answer seen before, or a cloned authenticator",
            cred.counter
        ));
    }
    let changed = counter > cred.counter
        || backed_up != cred.backup_state
        || eligible != cred.backup_eligible;
    if !changed {
        return Ok(None);
    }
    cred.counter = cred.counter.max(counter);
    cred.backup_state = backed_up;
    cred.backup_eligible = eligible;
    Ok(Some(cred.into()))
}

/// Whether `signature` is `key`'s over `data`.
fn signature_valid(key: &COSEKey, signature: &[u8], data: &[u8]) -> bool {
    if let (COSEAlgorithm::ES256, COSEKeyType::EC_EC2(ec)) = (&key.type_, &key.key)
        && matches!(ec.curve, ECDSACurve::SECP256R1)
        && ec.x.len() == 32
        && ec.y.len() == 32
    {
        let mut point = [0u8; 65];
        point[0] = 0x04;
        point[1..33].copy_from_slice(&ec.x);
        point[33..].copy_from_slice(&ec.y);
        return ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            &point[..],
        )
        .verify(data, signature)
        .is_ok();
    }
    key.verify_signature(signature, data).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
    use webauthn_rs::prelude::{COSEEC2Key, ParsedAttestation};
    use webauthn_rs_proto::{
        AttestationFormat, AuthenticationExtensionsClientOutputs,
        AuthenticatorAssertionResponseRaw, RegisteredExtensions, UserVerificationPolicy,
    };

    use super::*;

    const ORIGIN: &str = "http://localhost:8080";
    const CHALLENGE: &[u8] = b"0123456789abcdef0123456789abcdef";
    const USER: &[u8] = b"user-handle-0001";
    const CRED_ID: &[u8] = b"credential-1";

    /// A P-256 authenticator whose answers the tests build byte by byte.
    struct Device {
        key: EcdsaKeyPair,
        rng: SystemRandom,
    }

    /// What a test changes in an otherwise valid answer.
    struct Answer {
        flags: u8,
        counter: u32,
        rp_id: &'static str,
        client: serde_json::Value,
        user_handle: Option<Vec<u8>>,
        tamper: bool,
    }

    impl Default for Answer {
        fn default() -> Self {
            Self {
                flags: USER_PRESENT | USER_VERIFIED,
                counter: 0,
                rp_id: "localhost",
                client: client_data("webauthn.get", CHALLENGE, ORIGIN),
                user_handle: Some(USER.to_vec()),
                tamper: false,
            }
        }
    }

    fn client_data(kind: &str, challenge: &[u8], origin: &str) -> serde_json::Value {
        use base64::Engine as _;
        serde_json::json!({
            "type": kind,
            "challenge": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge),
            "origin": origin,
            "crossOrigin": false,
        })
    }

    impl Device {
        fn new() -> Device {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .expect("a P-256 key");
            let key =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                    .expect("a P-256 key pair");
            Device { key, rng }
        }

        fn passkey(&self, counter: u32, backup_eligible: bool) -> Passkey {
            let point = self.key.public_key().as_ref();
            Credential {
                cred_id: CRED_ID.to_vec(),
                cred: COSEKey {
                    type_: COSEAlgorithm::ES256,
                    key: COSEKeyType::EC_EC2(COSEEC2Key {
                        curve: ECDSACurve::SECP256R1,
                        x: point[1..33].to_vec(),
                        y: point[33..].to_vec(),
                    }),
                },
                counter,
                transports: None,
                user_verified: true,
                backup_eligible,
                backup_state: false,
                registration_policy: UserVerificationPolicy::Required,
                extensions: RegisteredExtensions::none(),
                attestation: ParsedAttestation::default(),
                attestation_format: AttestationFormat::None,
            }
            .into()
        }

        fn answer(&self, a: Answer) -> PublicKeyCredential {
            let mut data = Sha256::digest(a.rp_id.as_bytes()).to_vec();
            data.push(a.flags);
            data.extend_from_slice(&a.counter.to_be_bytes());
            let client_data_json = serde_json::to_vec(&a.client).expect("JSON");
            let mut signed = data.clone();
            signed.extend_from_slice(&Sha256::digest(&client_data_json));
            let signature = self.key.sign(&self.rng, &signed).expect("signed");
            if a.tamper {
                // The data changes after signing (its counter's top bit): the signature,
                // well-formed, no longer matches.
                data[33] ^= 0x80;
            }
            PublicKeyCredential {
                id: String::new(),
                raw_id: CRED_ID.to_vec(),
                response: AuthenticatorAssertionResponseRaw {
                    authenticator_data: data,
                    client_data_json,
                    signature: signature.as_ref().to_vec(),
                    user_handle: a.user_handle,
                },
                extensions: AuthenticationExtensionsClientOutputs::default(),
                type_: "public-key".to_owned(),
            }
        }
    }

    fn rp() -> RelyingParty {
        let origin = Url::parse(ORIGIN).ok();
        RelyingParty::new("localhost", origin.into_iter().collect())
    }

    fn expected(discoverable: bool) -> Expected<'static> {
        Expected {
            challenge: CHALLENGE,
            user_handle: USER,
            user_handle_required: discoverable,
            allow_backup_eligible_upgrade: !discoverable,
        }
    }

    fn check(device: &Device, passkey: &Passkey, a: Answer) -> Result<Updated, Refusal> {
        verify(&rp(), &expected(false), &device.answer(a), passkey)
    }

    #[test]
    fn a_valid_answer_passes_and_reports_no_change() {
        let d = Device::new();
        let r = check(&d, &d.passkey(0, false), Answer::default());
        assert!(matches!(r, Ok(None)), "{r:?}");
    }

    #[test]
    fn a_moved_counter_is_returned_to_store() {
        let d = Device::new();
        let r = check(
            &d,
            &d.passkey(4, false),
            Answer {
                counter: 5,
                ..Answer::default()
            },
        );
        let Ok(Some(moved)) = r else {
            panic!("the moved counter comes back: {r:?}")
        };
        let cred: Credential = moved.into();
        assert_eq!(cred.counter, 5);
    }

    #[test]
    fn each_broken_rule_is_refused_with_its_reason() {
        let d = Device::new();
        let key = d.passkey(7, false);
        let cases: Vec<(&str, Answer)> = vec![
            (
                "challenge",
                Answer {
                    client: client_data("webauthn.get", b"another challenge", ORIGIN),
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "origin",
                Answer {
                    client: client_data("webauthn.get", CHALLENGE, "http://evil.example:8080"),
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "client data type",
                Answer {
                    client: client_data("webauthn.create", CHALLENGE, ORIGIN),
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "cross-origin",
                Answer {
                    client: {
                        let mut c = client_data("webauthn.get", CHALLENGE, ORIGIN);
                        c["crossOrigin"] = serde_json::json!(true);
                        c
                    },
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "relying party id",
                Answer {
                    rp_id: "example.com",
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "user not present",
                Answer {
                    flags: USER_VERIFIED,
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "user not verified",
                Answer {
                    flags: USER_PRESENT,
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "backed up but not backup-eligible",
                Answer {
                    flags: USER_PRESENT | USER_VERIFIED | BACKUP_STATE,
                    counter: 8,
                    ..Answer::default()
                },
            ),
            (
                "counter did not move",
                Answer {
                    counter: 7,
                    ..Answer::default()
                },
            ),
            (
                "signature",
                Answer {
                    counter: 8,
                    tamper: true,
                    ..Answer::default()
                },
            ),
            (
                "other_user",
                Answer {
                    counter: 8,
                    user_handle: Some(b"someone else".to_vec()),
                    ..Answer::default()
                },
            ),
        ];
        for (reason, answer) in cases {
            let r = check(&d, &key, answer);
            assert!(
                matches!(&r, Err(e) if e.contains(reason)),
                "{reason}: {r:?}"
            );
        }
    }

    #[test]
    fn backup_eligibility_may_appear_only_outside_discoverable_sign_in() {
        let d = Device::new();
        let key = d.passkey(0, false);
        let answer = || {
            d.answer(Answer {
                flags: USER_PRESENT | USER_VERIFIED | BACKUP_ELIGIBLE | BACKUP_STATE,
                ..Answer::default()
            })
        };
        let named = verify(&rp(), &expected(false), &answer(), &key);
        let Ok(Some(moved)) = named else {
            panic!("an upgrade is stored: {named:?}")
        };
        let cred: Credential = moved.into();
        assert!(cred.backup_eligible && cred.backup_state);
        let discoverable = verify(&rp(), &expected(true), &answer(), &key);
        assert!(
            matches!(&discoverable, Err(e) if e.contains("backup eligibility")),
            "{discoverable:?}"
        );
        // Eligible once, always: an answer that drops it is refused.
        let eligible = d.passkey(0, true);
        let dropped = verify(
            &rp(),
            &expected(false),
            &d.answer(Answer::default()),
            &eligible,
        );
        assert!(
            matches!(&dropped, Err(e) if e.contains("backup eligibility")),
            "{dropped:?}"
        );
    }

    #[test]
    fn a_discoverable_sign_in_needs_the_user_handle() {
        let d = Device::new();
        let key = d.passkey(0, false);
        let without = d.answer(Answer {
            user_handle: None,
            ..Answer::default()
        });
        let r = verify(&rp(), &expected(true), &without, &key);
        assert!(
            matches!(&r, Err(e) if e == "invalid: no user handle"),
            "{r:?}"
        );
        assert!(matches!(
            verify(&rp(), &expected(false), &without, &key),
            Ok(None)
        ));
    }

    #[test]
    fn another_credentials_answer_is_refused() {
        let d = Device::new();
        let mut answer = d.answer(Answer::default());
        answer.raw_id = b"credential-2".to_vec();
        let r = verify(&rp(), &expected(false), &answer, &d.passkey(0, false));
        assert!(
            matches!(&r, Err(e) if e.contains("another credential")),
            "{r:?}"
        );
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        let (d, other) = (Device::new(), Device::new());
        let r = verify(
            &rp(),
            &expected(false),
            &other.answer(Answer::default()),
            &d.passkey(0, false),
        );
        assert!(matches!(&r, Err(e) if e.contains("signature")), "{r:?}");
    }
}
