//! `latchkey totp`: enrol, verify, list and disable your TOTP devices.

use std::process::ExitCode;

use latchkey_api::{EnrollTotp, TotpCode, TotpDeviceView};

use super::{Ctx, success};
use crate::cli::TotpCmd;
use crate::output::{Tabular, instant};

impl Tabular for TotpDeviceView {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "name",
        "verified",
        "created",
        "last used",
        "failed attempts",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            if self.verified { "yes" } else { "no" }.to_owned(),
            instant(self.created_at),
            self.last_used_at.map(instant).unwrap_or_default(),
            self.failed_attempts.to_string(),
        ]
    }
}

pub async fn totp(ctx: &Ctx, cmd: TotpCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        TotpCmd::Enroll { name } => {
            let enrolled = client.enroll_totp(&EnrollTotp { name }).await?;
            if out.json {
                out.print_json(&enrolled)?;
            } else {
                println!(
                    "TOTP device `{}` enrolled as {}.\nAdd it to an authenticator app with this URL (or the secret {}):\n\n    {}\n\nThen verify it: latchkey totp verify {} CODE",
                    enrolled.device.name,
                    enrolled.device.id,
                    enrolled.secret,
                    enrolled.otpauth_url,
                    enrolled.device.id
                );
            }
        }
        TotpCmd::Verify { id, code } => {
            let device = client.verify_totp(id, &TotpCode { code }).await?;
            if out.json {
                out.print_json(&device)?;
            } else {
                out.done(&format!(
                    "TOTP device `{}` verified: sign-ins now ask for its code",
                    device.name
                ));
            }
        }
        TotpCmd::List => out.items(client.list_totp().await?)?,
        TotpCmd::Disable { id, code } => {
            let proof = code.map(|code| TotpCode { code });
            client.disable_totp(id, proof.as_ref()).await?;
            out.done(&format!("TOTP device {id} disabled"));
        }
    }
    success()
}
