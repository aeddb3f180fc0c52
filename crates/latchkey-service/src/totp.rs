//! TOTP devices as a second factor: enrolment (a sealed secret, its `otpauth://` URL and a
//! QR code), verification by a first correct code, listing with the failed attempts,
//! disabling one's own, an administrator's reset, and the check a password sign-in makes
//! once the user has a verified device.
//!
//! Codes are RFC 6238 with what authenticator apps expect: HMAC-SHA1, six digits, 30-second
//! steps. A code of the current step or one step either side is accepted (clock skew); a
//! code whose step is not later than the device's last accepted step is a replay and is
//! refused. Time is the services' clock, never the system's.
//!
//! Decisions: a verified device is disabled by its owner only with one of its current
//! codes (a stolen session alone cannot remove the second factor; whoever lost the device
//! asks an administrator, whose reset is recovery activity). An unverified device protects
//! nothing and is removed without one. A wrong code at sign-in counts towards the account's
//! lockout like a wrong password (a right password clears the account's count only once
//! the code is accepted), and on the device, whose count shows failures since its last
//! accepted code.

use latchkey_api::{EnrollTotp, TotpCode, TotpDeviceView, TotpEnrolled};
use latchkey_model::totp::{TOTP_DIGITS, TOTP_STEP_SECONDS};
use latchkey_model::{OrgId, Organisation, Permission, TotpDevice, TotpDeviceId, User, UserId};
use latchkey_store::StoreError;
use rand::Rng as _;
use serde_json::json;
use time::OffsetDateTime;

use crate::secrets::owner_aad;
use crate::sign_in::{ClientInfo, alerts, events};
use crate::{Principal, ServiceError, ServiceResult, Services};

/// Bytes of a device's secret: the 160 bits RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Devices one user may have.
const MAX_DEVICES: usize = 10;
/// Steps either side of the current one whose codes are accepted.
const SKEW_STEPS: i64 = 1;
/// Steps either side looked at, after a refusal, to tell a device whose clock is off from a
/// wrong code (the code is refused either way).
const DIAGNOSED_STEPS: i64 = 10;

/// The associated data of a device's sealed secret.
fn sealed_for(org: OrgId, id: TotpDeviceId) -> Vec<u8> {
    owner_aad("totp", org.as_uuid(), id.as_uuid())
}

fn view(d: &TotpDevice) -> TotpDeviceView {
    TotpDeviceView {
        id: d.id,
        user_id: d.user_id,
        name: d.name.clone(),
        verified: d.verified_at.is_some(),
        created_at: d.created_at,
        verified_at: d.verified_at,
        last_used_at: d.last_used_at(),
        failed_attempts: d.failed_attempts,
        last_failure_at: d.last_failure_at,
    }
}

/// The generator of a device's codes.
fn generator(secret: Vec<u8>) -> ServiceResult<totp_rs::Totp> {
    generator_for(secret, None, "")
}

fn generator_for(
    secret: Vec<u8>,
    issuer: Option<String>,
    account: &str,
) -> ServiceResult<totp_rs::Totp> {
    let digits = u8::try_from(TOTP_DIGITS).unwrap_or(6);
    let step = u64::try_from(TOTP_STEP_SECONDS).unwrap_or(30);
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(digits)
        // Skew is handled here, step by step, to tell a replay from a wrong code.
        .with_skew(0)
        .with_step_duration(step)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(issuer)
        .build()
        .map_err(|e| ServiceError::Internal(format!("TOTP generator: {e}")))
}

/// What a code is worth against a device at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    /// The code of this step, later than the last one used.
    Accepted(i64),
    /// A code of a step already used (or earlier).
    Replayed,
    /// No code of an accepted step; `off_by` steps when it is the code of a nearby step (the
    /// device's clock is off).
    Wrong { off_by: Option<i64> },
}

/// Checks `code` (six digits) at Unix time `unix` against a device whose last accepted step
/// is `last_used`.
pub(crate) fn check_code(
    totp: &totp_rs::Totp,
    code: &str,
    unix: i64,
    last_used: Option<i64>,
) -> CodeCheck {
    let current = unix.div_euclid(TOTP_STEP_SECONDS);
    let is_code_of = |step: i64| {
        step.checked_mul(TOTP_STEP_SECONDS)
            .and_then(|t| u64::try_from(t).ok())
            .is_some_and(|t| totp.check(code, t).is_some())
    };
    let mut replayed = false;
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        if is_code_of(step) {
            if last_used.is_none_or(|last| step > last) {
                return CodeCheck::Accepted(step);
            }
            replayed = true;
        }
    }
    if replayed {
        return CodeCheck::Replayed;
    }
    let off_by = (SKEW_STEPS + 1..=DIAGNOSED_STEPS)
        .flat_map(|n| [n, -n])
        .find(|&n| is_code_of(current + n));
    CodeCheck::Wrong { off_by }
}

/// What to tell someone whose code was refused.
fn refusal_message(check: CodeCheck) -> String {
    match check {
        CodeCheck::Replayed => {
            "this one-time code was already used: wait for the next one".to_owned()
        }
        CodeCheck::Wrong {
            off_by: Some(steps),
        } => {
            let seconds = steps.abs() * TOTP_STEP_SECONDS;
            let way = if steps > 0 { "ahead" } else { "behind" };
            format!(
                "the one-time code is wrong: it is the code of about {seconds} s {way}; check the clock of the device"
            )
        }
        CodeCheck::Wrong { off_by: None } | CodeCheck::Accepted(_) => {
            "the one-time code is wrong".to_owned()
        }
    }
}

fn reason(check: CodeCheck) -> &'static str {
    match check {
        CodeCheck::Replayed => events::REASON_TOTP_REPLAYED,
        _ => events::REASON_TOTP_WRONG,
    }
}

fn off_by(check: CodeCheck) -> Option<i64> {
    match check {
        CodeCheck::Wrong { off_by } => off_by,
        _ => None,
    }
}

/// A name for the label of an `otpauth://` URL, which may not contain `:`.
fn label_part(s: &str) -> String {
    s.replace(':', " ").trim().to_owned()
}

fn qr_svg(url: &str) -> ServiceResult<String> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

/// An instant as RFC 3339, for messages.
fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Enrolling, verifying, listing and disabling one's own devices; listing and resetting a
/// user's.
impl Services {
    fn master_key(&self) -> ServiceResult<&crate::secrets::MasterKey> {
        self.inner.master_key.get().ok_or_else(|| {
            ServiceError::Unavailable(
                "no master key is configured, so TOTP secrets cannot be sealed or opened"
                    .to_owned(),
            )
        })
    }

    /// The code generator of a stored device, its secret opened.
    fn device_generator(&self, d: &TotpDevice) -> ServiceResult<totp_rs::Totp> {
        let secret = self
            .master_key()?
            .open(&sealed_for(d.org_id, d.id), &d.sealed_secret)
            .map_err(|e| ServiceError::Internal(format!("TOTP device {}: {e}", d.id)))?;
        generator(secret)
    }

    /// Enrols a new, unverified device for the caller; the answer holds the secret, shown
    /// this once.
    pub async fn enroll_totp(
        &self,
        p: &Principal,
        req: &EnrollTotp,
        client: &ClientInfo,
    ) -> ServiceResult<TotpEnrolled> {
        let name = TotpDevice::parse_name("name", &req.name)?;
        let key = self.master_key()?.clone();
        let mut tx = self.read().await?;
        let org = tx
            .get_org(p.org_id)
            .await?
            .ok_or_else(|| ServiceError::Internal("the caller's organisation is gone".into()))?;
        let user = tx
            .get_user(p.org_id, p.user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", p.user_id))?;
        let existing = tx.totp_devices(p.org_id, p.user_id).await?;
        drop(tx);
        if existing.iter().any(|d| d.name == name) {
            return Err(name_taken(&name));
        }
        if existing.len() >= MAX_DEVICES {
            return Err(ServiceError::conflict(
                "too_many_devices",
                format!("you have {MAX_DEVICES} TOTP devices, the most allowed: disable one first"),
            ));
        }
        let mut secret = vec![0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        let id = TotpDeviceId::from_uuid(self.uuid());
        let sealed = key
            .seal(&sealed_for(p.org_id, id), &secret)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let totp = generator_for(
            secret,
            Some(label_part(&org.name)),
            &label_part(&user.user_name),
        )?;
        let otpauth_url = totp
            .to_url()
            .map_err(|e| ServiceError::Internal(format!("otpauth URL: {e}")))?;
        let qr_svg = qr_svg(&otpauth_url)?;
        let device = TotpDevice {
            id,
            org_id: p.org_id,
            user_id: p.user_id,
            name,
            sealed_secret: sealed,
            created_at: self.now(),
            verified_at: None,
            last_used_step: None,
            failed_attempts: 0,
            last_failure_at: None,
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_totp_device(&device).await.map_err(|e| match e {
            StoreError::Conflict { constraint } if constraint == "totp_devices.name" => {
                name_taken(&device.name)
            }
            other => other.into(),
        })?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::TOTP_ENROLLED,
            Some(p.user_id),
            Some(p.user_id),
            client,
            json!({ "device_id": device.id, "name": device.name }),
        )
        .await?;
        tx.commit().await?;
        Ok(TotpEnrolled {
            device: view(&device),
            secret: totp.secret().to_base32(),
            otpauth_url,
            qr_svg,
        })
    }

    /// The caller's device `id` (404 for anyone else's, as for one that does not exist).
    async fn own_device(&self, p: &Principal, id: TotpDeviceId) -> ServiceResult<TotpDevice> {
        let mut tx = self.read().await?;
        match tx.get_totp_device(p.org_id, id).await? {
            Some(d) if d.user_id == p.user_id => Ok(d),
            _ => Err(ServiceError::not_found("TOTP device", id)),
        }
    }

    /// Checks a code given for `action` on one of the caller's devices: `Ok(step)` when
    /// accepted (and recorded, so it cannot be used again); else the failure is counted on
    /// the device, an event records it, and the error names the field `code`.
    async fn prove_device(
        &self,
        p: &Principal,
        device: &TotpDevice,
        code: &str,
        action: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let code = TotpDevice::parse_code("code", code)?;
        let totp = self.device_generator(device)?;
        let now = self.now();
        let mut check = check_code(&totp, &code, now.unix_timestamp(), device.last_used_step);
        let mut tx = self.inner.store.begin().await?;
        if let CodeCheck::Accepted(step) = check {
            if tx.accept_totp_step(p.org_id, device.id, step, now).await? {
                if device.verified_at.is_none() {
                    self.security_event(
                        &mut *tx,
                        p.org_id,
                        events::TOTP_VERIFIED,
                        Some(p.user_id),
                        Some(p.user_id),
                        client,
                        json!({ "device_id": device.id, "name": device.name }),
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(());
            }
            // Another request used this step in between.
            check = CodeCheck::Replayed;
        }
        let failures = tx.record_totp_failure(p.org_id, device.id, now).await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::TOTP_REFUSED,
            Some(p.user_id),
            Some(p.user_id),
            client,
            json!({
                "device_id": device.id,
                "action": action,
                "reason": reason(check),
                "failed_attempts": failures,
                "clock_off_by_steps": off_by(check),
            }),
        )
        .await?;
        tx.commit().await?;
        Err(ServiceError::invalid(
            "code",
            if check == CodeCheck::Replayed {
                "replayed"
            } else {
                "matches"
            },
            refusal_message(check),
        ))
    }

    /// Verifies a newly enrolled device with its first correct code; from then on it is
    /// asked for at sign-in.
    pub async fn verify_totp(
        &self,
        p: &Principal,
        id: TotpDeviceId,
        req: &TotpCode,
        client: &ClientInfo,
    ) -> ServiceResult<TotpDeviceView> {
        let device = self.own_device(p, id).await?;
        if device.verified_at.is_some() {
            return Err(ServiceError::conflict(
                "already_verified",
                format!("the TOTP device `{}` is already verified", device.name),
            ));
        }
        self.prove_device(p, &device, &req.code, "verify", client)
            .await?;
        let device = self.own_device(p, id).await?;
        Ok(view(&device))
    }

    /// The caller's devices, oldest first.
    pub async fn list_own_totp(&self, p: &Principal) -> ServiceResult<Vec<TotpDeviceView>> {
        let mut tx = self.read().await?;
        let devices = tx.totp_devices(p.org_id, p.user_id).await?;
        Ok(devices.iter().map(view).collect())
    }

    /// A user's devices; someone else's need `users.manage` over them.
    pub async fn list_user_totp(
        &self,
        p: &Principal,
        user: UserId,
    ) -> ServiceResult<Vec<TotpDeviceView>> {
        let mut tx = self.read().await?;
        if user != p.user_id {
            let scope = p.require(Permission::UsersManage)?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        }
        let devices = tx.totp_devices(p.org_id, user).await?;
        Ok(devices.iter().map(view).collect())
    }

    /// Removes one of the caller's devices: a verified one only with one of its current
    /// codes.
    pub async fn disable_own_totp(
        &self,
        p: &Principal,
        id: TotpDeviceId,
        proof: Option<&TotpCode>,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let device = self.own_device(p, id).await?;
        if device.verified_at.is_some() {
            let Some(proof) = proof else {
                return Err(ServiceError::invalid(
                    "code",
                    "required",
                    "a verified TOTP device is disabled with one of its current codes in `code`; without the device, ask an administrator to reset it",
                ));
            };
            self.prove_device(p, &device, &proof.code, "disable", client)
                .await?;
        }
        let mut tx = self.inner.store.begin().await?;
        if tx.delete_totp_device(p.org_id, id).await? {
            self.security_event(
                &mut *tx,
                p.org_id,
                events::TOTP_DISABLED,
                Some(p.user_id),
                Some(p.user_id),
                client,
                json!({
                    "device_id": id,
                    "name": device.name,
                    "verified": device.verified_at.is_some(),
                }),
            )
            .await?;
        }
        Ok(tx.commit().await?)
    }

    /// Removes a user's device for them (they lost it): recovery activity. Needs
    /// `users.manage` over the user.
    pub async fn reset_user_totp(
        &self,
        p: &Principal,
        user: UserId,
        id: TotpDeviceId,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::UsersManage)?;
        let mut tx = self.begin(p.org_id).await?;
        Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        let device = match tx.get_totp_device(p.org_id, id).await? {
            Some(d) if d.user_id == user => d,
            _ => return Err(ServiceError::not_found("TOTP device", id)),
        };
        tx.delete_totp_device(p.org_id, id).await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::TOTP_RESET,
            Some(user),
            Some(p.user_id),
            client,
            json!({
                "device_id": id,
                "name": device.name,
                "verified": device.verified_at.is_some(),
            }),
        )
        .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "user.totp_reset",
            "user",
            user,
            Some(&view(&device)),
            None::<&()>,
        )
        .await?;
        tx.commit().await
    }
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::field_conflict(
        "already_exists",
        "name",
        format!("you already have a TOTP device named `{name}`"),
    )
}

/// The second factor of a password sign-in.
impl Services {
    /// Once the password is right: when the user has a verified device, a current code of
    /// one of them is required. A missing code answers `totp_required`; a wrong or replayed
    /// one is a sign-in failure (`totp_invalid`) that counts towards the lockout.
    pub(crate) async fn second_factor_with(
        &self,
        org: &Organisation,
        user: &User,
        devices: Vec<TotpDevice>,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let devices: Vec<TotpDevice> = devices
            .into_iter()
            .filter(|d| d.verified_at.is_some())
            .collect();
        if devices.is_empty() {
            return Ok(());
        }
        let Some(raw) = code.filter(|c| !c.trim().is_empty()) else {
            // Not counted: asking for the code is the first half of a two-step sign-in.
            // Recorded all the same, since it shows someone knows the password.
            self.second_factor_event(org, user, events::REASON_TOTP_REQUIRED, client)
                .await?;
            return Err(ServiceError::SecondFactor {
                code: "totp_required",
                message: "this account has a TOTP device: send its current code in `totp_code`"
                    .to_owned(),
            });
        };
        let code = match TotpDevice::parse_code("totp_code", raw) {
            Ok(c) => c,
            Err(e) => {
                self.second_factor_event(org, user, events::REASON_TOTP_MALFORMED, client)
                    .await?;
                return Err(e.into());
            }
        };
        let now = self.now();
        let mut refused = CodeCheck::Wrong { off_by: None };
        let mut replayed_on = None;
        for d in &devices {
            let totp = self.device_generator(d)?;
            match check_code(&totp, &code, now.unix_timestamp(), d.last_used_step) {
                CodeCheck::Accepted(step) => {
                    let mut tx = self.inner.store.begin().await?;
                    if tx.accept_totp_step(org.id, d.id, step, now).await? {
                        tx.commit().await?;
                        return Ok(());
                    }
                    // Another sign-in used this step in between.
                    refused = CodeCheck::Replayed;
                    replayed_on = Some(d.id);
                }
                CodeCheck::Replayed => {
                    refused = CodeCheck::Replayed;
                    replayed_on = Some(d.id);
                }
                wrong @ CodeCheck::Wrong { off_by: Some(_) } if refused != CodeCheck::Replayed => {
                    refused = wrong;
                }
                CodeCheck::Wrong { .. } => {}
            }
        }
        // A replay is blamed on the device whose code it was; a wrong code on every
        // device, since each was tried.
        let blamed: Vec<&TotpDevice> = devices
            .iter()
            .filter(|d| replayed_on.is_none_or(|id| id == d.id))
            .collect();
        Err(self
            .refuse_second_factor(org, user, &blamed, refused, client)
            .await?)
    }

    async fn second_factor_event(
        &self,
        org: &Organisation,
        user: &User,
        reason: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let mut tx = self.inner.store.begin().await?;
        self.security_event(
            &mut *tx,
            org.id,
            events::SIGN_IN_FAILED,
            Some(user.id),
            None,
            client,
            json!({ "method": "password", "reason": reason }),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    /// Counts a refused code on the devices and the account, locks the account as a wrong
    /// password would, and answers the error to return.
    async fn refuse_second_factor(
        &self,
        org: &Organisation,
        user: &User,
        blamed: &[&TotpDevice],
        check: CodeCheck,
        client: &ClientInfo,
    ) -> ServiceResult<ServiceError> {
        let now = self.now();
        let attempts = self.inner.passwords.settings().lockout_attempts;
        let minutes = self.inner.passwords.settings().lockout_minutes;
        let mut tx = self.inner.store.begin().await?;
        let mut worst = 0;
        for d in blamed {
            worst = worst.max(tx.record_totp_failure(org.id, d.id, now).await?);
        }
        let counted = tx.record_sign_in_failure(org.id, user.id, now).await?;
        self.security_event(
            &mut *tx,
            org.id,
            events::SIGN_IN_FAILED,
            Some(user.id),
            None,
            client,
            json!({
                "method": "password",
                "reason": reason(check),
                "failures": counted.count,
                "device_ids": blamed.iter().map(|d| d.id).collect::<Vec<_>>(),
                "device_failures": worst,
                "clock_off_by_steps": off_by(check),
            }),
        )
        .await?;
        let locks = counted.locked_until.is_none() && counted.count >= attempts;
        if !locks {
            tx.commit().await?;
            return Ok(ServiceError::SecondFactor {
                code: "totp_invalid",
                message: refusal_message(check),
            });
        }
        let until = now + time::Duration::minutes(i64::from(minutes));
        tx.lock_sign_in(org.id, user.id, until).await?;
        let failures = counted.count.max(worst);
        let event = self
            .security_event(
                &mut *tx,
                org.id,
                events::SIGN_IN_LOCKED,
                Some(user.id),
                None,
                client,
                json!({ "failures": failures, "locked_until": rfc3339(until), "factor": "totp" }),
            )
            .await?;
        self.raise_alert(
            &mut *tx,
            org.id,
            alerts::REPEATED_FAILURES,
            "high",
            format!(
                "`{}` was locked out after {failures} wrong one-time codes",
                user.user_name
            ),
            Some(user.id),
            event,
        )
        .await?;
        tx.commit().await?;
        Ok(ServiceError::Locked(format!(
            "too many failed sign-ins: the account is locked until {}",
            rfc3339(until)
        )))
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    const T: i64 = 1_795_000_000; // a step boundary plus 10 s
    fn code_at(totp: &totp_rs::Totp, unix: i64) -> String {
        totp.generate(u64::try_from(unix).unwrap()).to_string()
    }

    #[test]
    fn one_step_of_skew_is_accepted_and_two_are_not() {
        let totp = generator(vec![7u8; SECRET_BYTES]).unwrap();
        let step = T.div_euclid(30);
        assert_eq!(
            check_code(&totp, &code_at(&totp, T), T, None),
            CodeCheck::Accepted(step)
        );
        assert_eq!(
            check_code(&totp, &code_at(&totp, T - 30), T, None),
            CodeCheck::Accepted(step - 1)
        );
        assert_eq!(
            check_code(&totp, &code_at(&totp, T + 30), T, None),
            CodeCheck::Accepted(step + 1)
        );
        assert_eq!(
            check_code(&totp, &code_at(&totp, T + 60), T, None),
            CodeCheck::Wrong { off_by: Some(2) }
        );
        assert_eq!(
            check_code(&totp, &code_at(&totp, T - 90), T, None),
            CodeCheck::Wrong { off_by: Some(-3) }
        );
    }

    #[test]
    fn a_used_step_or_an_earlier_one_is_a_replay() {
        let totp = generator(vec![9u8; SECRET_BYTES]).unwrap();
        let step = T.div_euclid(30);
        let now = code_at(&totp, T);
        assert_eq!(check_code(&totp, &now, T, Some(step)), CodeCheck::Replayed);
        assert_eq!(
            check_code(&totp, &code_at(&totp, T - 30), T, Some(step)),
            CodeCheck::Replayed
        );
        assert_eq!(
            check_code(&totp, &code_at(&totp, T + 30), T, Some(step)),
            CodeCheck::Accepted(step + 1)
        );
    }

    #[test]
    fn the_otpauth_url_names_issuer_account_and_secret() {
        let totp = generator_for(
            vec![1u8; SECRET_BYTES],
            Some(label_part("Acme: Labs")),
            &label_part("ana"),
        )
        .unwrap();
        let url = totp.to_url().unwrap();
        assert!(
            url.starts_with("otpauth://totp/Acme%20%20Labs:ana?"),
            "{url}"
        );
        assert!(
            url.contains(&format!("secret={}", totp.secret().to_base32())),
            "{url}"
        );
        assert!(url.contains("issuer=Acme"), "{url}");
        let svg = qr_svg(&url).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    }
}
