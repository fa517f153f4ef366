//! `sahih seal`: institutional electronic seals (segel elektronik) from the command line. A
//! verifikator issues a seal acting as one of their named accounts (`--as`), so the same role
//! check holds as over HTTP and the audit log names them. Activation codes, batch codes and
//! sealing go through the ECS seal endpoints (docs/ECS.md).

use crate::ra::staff_account;
use crate::{Failure, open};
use clap::Subcommand;
use sahih_core::{CoreError, Lang};
use std::path::Path;

#[derive(Subcommand)]
pub(crate) enum SealCommand {
    /// Request a seal for an institution's unit (verifikator); prints its idSubscriber on the
    /// last line. Another verifikator issues it with `sahih seal approve`.
    Issue {
        /// The verifikator account acting.
        #[arg(long = "as")]
        staff: String,
        /// Display name, e.g. "DPMPTSP Kota Contoh".
        #[arg(long)]
        name: String,
        /// The unit the seal belongs to.
        #[arg(long)]
        unit: String,
        /// The responsible person's official e-mail (activation codes go there).
        #[arg(long)]
        email: String,
    },
    /// Issue a requested seal (a verifikator other than the one who requested it): its key and
    /// certificate are made now.
    Approve {
        /// The verifikator account acting.
        #[arg(long = "as")]
        staff: String,
        /// The seal's idSubscriber.
        id: String,
    },
    /// List seals with their certificate status.
    List,
}

pub(crate) async fn seal(data: &Path, command: SealCommand, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    match command {
        SealCommand::Issue {
            staff,
            name,
            unit,
            email,
        } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let id = sahih
                .request_seal(&staff, &name, &unit, &email)
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Segel elektronik diajukan (menunggu verifikator lain: sahih seal approve --as VERIFIKATOR {id}); kode aktivasi nanti dikirim ke {}",
                    email.trim()
                ),
                Lang::En => println!(
                    "Electronic seal requested (waiting for another verifikator: sahih seal approve --as VERIFIKATOR {id}); activation codes will go to {}",
                    email.trim()
                ),
            }
            println!("{id}");
        }
        SealCommand::Approve { staff, id } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let (id, certificate) = sahih.issue_seal(&staff, &id).await.map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Segel elektronik diterbitkan: {}\n  Serial: {}\n  Berlaku sampai: {}\n  Kode aktivasi: minta melalui POST /api/v2/seal/get/activation",
                    certificate.subject_display(),
                    certificate.serial_hex(),
                    sahih_core::format_wib(certificate.not_after(), lang),
                ),
                Lang::En => println!(
                    "Electronic seal issued: {}\n  Serial: {}\n  Valid until: {}\n  Activation code: request it with POST /api/v2/seal/get/activation",
                    certificate.subject_display(),
                    certificate.serial_hex(),
                    sahih_core::format_wib(certificate.not_after(), lang),
                ),
            }
            println!("{id}");
        }
        SealCommand::List => {
            for s in sahih.seals().await.map_err(core)? {
                println!(
                    "{}\t{}\t{}\t{}\tserial={}\tuntil={}\temail={}",
                    s.seal.nik,
                    s.status,
                    s.seal.name,
                    s.seal.unit,
                    s.certificate
                        .as_ref()
                        .map(|c| c.serial_hex.as_str())
                        .unwrap_or("-"),
                    s.certificate
                        .as_ref()
                        .map(|c| sahih_core::format_wib(c.not_after, lang))
                        .unwrap_or_else(|| "-".into()),
                    s.seal.email
                );
            }
        }
    }
    sahih.store.close().await;
    Ok(())
}
