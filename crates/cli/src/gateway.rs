//! `sahih gateway`: officials whose signatures are made by the upstream ECS (gateway mode).
//! Policy, audit and lockout stay local; see docs/ECS.md.

use crate::{Failure, open};
use clap::Subcommand;
use sahih_core::{CoreError, Lang};
use std::path::Path;

#[derive(Subcommand)]
pub(crate) enum GatewayCommand {
    /// Record an official enrolled at the upstream ECS: their signing requests are forwarded
    /// there (after the local policy and lockout checks).
    Enroll {
        #[command(flatten)]
        identity: crate::IdentityArgs,
    },
}

pub(crate) async fn gateway(
    data: &Path,
    command: GatewayCommand,
    lang: Lang,
) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    match command {
        GatewayCommand::Enroll { identity } => {
            if sahih.config.gateway.url.trim().is_empty() {
                return Err(Failure::usage(match lang {
                    Lang::Id => {
                        "Mode gateway belum dikonfigurasi: isi [gateway] url di config.toml.".into()
                    }
                    Lang::En => {
                        "Gateway mode is not configured: set [gateway] url in config.toml.".into()
                    }
                }));
            }
            let official = identity.official();
            sahih
                .enroll_upstream(&official, "cli")
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "{} dicatat sebagai pengguna layanan TTE induk ({}).",
                    official.name, sahih.config.gateway.url
                ),
                Lang::En => println!(
                    "{} recorded as signing through the upstream ECS ({}).",
                    official.name, sahih.config.gateway.url
                ),
            }
        }
    }
    sahih.store.close().await;
    Ok(())
}
