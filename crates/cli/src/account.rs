//! `sahih account`: person accounts for the web pages (officials, operators, verifikators,
//! administrators). `invite` makes an account and sends its setup link to the person's e-mail
//! through the outbox; the person chooses a password and sets up an authenticator app there.
//! Officials activated through the RA get their account during activation instead.

use crate::{Failure, open};
use clap::Subcommand;
use sahih_core::pipeline::Door;
use sahih_core::store::Store;
use sahih_core::store::accounts::{AccountRole, NewAccount};
use sahih_core::{CoreError, Lang};
use std::path::Path;

fn parse_role(s: &str) -> Result<AccountRole, String> {
    AccountRole::parse(s.trim())
        .ok_or_else(|| "use official, operator, verifikator or admin".to_string())
}

#[derive(Subcommand)]
pub(crate) enum AccountCommand {
    /// Make an account and e-mail its setup link (valid 72 hours, once).
    Invite {
        /// official (needs --nik), operator (needs --unit), verifikator or admin.
        #[arg(long, value_parser = parse_role)]
        role: AccountRole,
        /// For officials: the NIK of their record (name, e-mail and NIP come from it). For
        /// staff: their own NIK, so they can never decide a request about themselves.
        #[arg(long)]
        nik: Option<String>,
        /// E-mail (staff).
        #[arg(long)]
        email: Option<String>,
        /// Name (staff).
        #[arg(long)]
        name: Option<String>,
        /// NIP, another way to log in (staff).
        #[arg(long)]
        nip: Option<String>,
        /// The operator's unit.
        #[arg(long)]
        unit: Option<String>,
    },
}

pub(crate) async fn account(
    data: &Path,
    command: AccountCommand,
    lang: Lang,
) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    let AccountCommand::Invite {
        role,
        nik,
        email,
        name,
        nip,
        unit,
    } = command;
    let missing = |what: &str| {
        core(CoreError::invalid(
            format!("--{what} harus diisi untuk peran ini"),
            format!("--{what} is required for this role"),
        ))
    };
    let new = if role == AccountRole::Official {
        let nik = nik.ok_or_else(|| missing("nik"))?;
        let official = sahih
            .store
            .official_by_nik(nik.trim())
            .await
            .map_err(|e| core(e.into()))?
            .ok_or_else(|| core(CoreError::NikNotRegistered))?;
        NewAccount {
            role,
            official_id: Some(official.id),
            unit: Some(official.unit.clone()),
            email: official.email.clone(),
            nip: Some(official.nip.clone()).filter(|n| !n.is_empty()),
            nik: Some(official.nik.clone()),
            name: official.name.clone(),
            password_hash: None,
        }
    } else {
        if role == AccountRole::Operator && unit.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(missing("unit"));
        }
        NewAccount {
            role,
            official_id: None,
            unit: unit.map(|u| u.trim().to_string()),
            email: email.ok_or_else(|| missing("email"))?.trim().to_string(),
            nip: nip.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
            nik: nik.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
            name: name.ok_or_else(|| missing("name"))?.trim().to_string(),
            password_hash: None,
        }
    };
    let email = new.email.clone();
    let id = sahih
        .invite_account(new, &Door::cli().audit_name())
        .await
        .map_err(core)?;
    match lang {
        Lang::Id => println!(
            "Akun {id} dibuat; tautan pengaturan dikirim ke {email} (lihat `sahih outbox {email}` bila SMTP belum diatur)."
        ),
        Lang::En => println!(
            "Account {id} created; the setup link went to {email} (see `sahih outbox {email}` while no SMTP relay is set)."
        ),
    }
    Ok(())
}
