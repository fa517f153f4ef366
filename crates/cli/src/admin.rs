//! `sahih client`, `sahih policy`, `sahih audit`: administration of API clients, the
//! document-class policy and the audit log. Every change is audited by `sahih-core`.

use crate::{Failure, open};
use clap::Subcommand;
use sahih_core::clients::ClientRole;
use sahih_core::policy::Policy;
use sahih_core::store::Store;
use sahih_core::{CoreError, Lang};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(crate) enum ClientCommand {
    /// Create an API client; prints its credential as `username:password` on the last line
    /// (shown once; only a hash is stored).
    Add {
        name: String,
        /// Allowed source address or CIDR block (repeatable; default: any).
        #[arg(long = "allow-ip")]
        allow_ip: Vec<String>,
        /// Document class for this client's requests (default: the policy's default class).
        #[arg(long)]
        class: Option<String>,
        /// Administrator client: may also read the audit log and list clients (/api/v1).
        /// Same as --role admin.
        #[arg(long)]
        admin: bool,
        /// app (sign, verify), admin, operator (submits RA requests for --unit) or verifikator
        /// (decides RA requests, suspends, resumes and revokes).
        #[arg(long, default_value = "app", value_parser = parse_role)]
        role: ClientRole,
        /// The unit an operator submits for (required for --role operator).
        #[arg(long)]
        unit: Option<String>,
        /// The NIK of the person using this staff account (nobody decides their own request).
        #[arg(long = "person-nik")]
        person_nik: Option<String>,
    },
    /// List API clients.
    List,
    /// The authorization table: every API route, the capability it needs and the roles that
    /// hold it, as JSON lines.
    Permissions,
    /// Disable a client: its credential stops working at once, on every server.
    Disable { name: String },
    /// Enable a disabled client again.
    Enable { name: String },
    /// Which error body the client reads: `http` (status_code = HTTP status, the default) or
    /// `bsre` (status_code = the BSrE error code, as some ECS client libraries read it).
    ErrorShape {
        name: String,
        #[arg(value_parser = parse_error_shape)]
        shape: sahih_core::clients::ErrorShape,
    },
}

fn parse_error_shape(s: &str) -> Result<sahih_core::clients::ErrorShape, String> {
    sahih_core::clients::ErrorShape::parse(s.trim()).ok_or_else(|| "use http or bsre".into())
}

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
    /// Replace the policy with a TOML file (see policies/ for two examples).
    Load { file: PathBuf },
    /// Print the policy in force.
    Show,
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the hash chain, its head and its TSA timestamps; names the first bad entry.
    Verify,
    /// Write entries as JSON lines.
    Export {
        #[arg(long, default_value_t = 1)]
        from: i64,
        #[arg(long)]
        to: Option<i64>,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Have the built-in TSA timestamp the chain head now (the server also does this
    /// periodically).
    Anchor,
}

fn print_permissions(routes: &[crate::ApiRoute]) {
    use sahih_core::clients::permits;
    let mut out = std::io::stdout().lock();
    for crate::ApiRoute {
        method,
        path,
        capability,
    } in routes
    {
        // "app+unit": an app client bound to a unit (it may file registrations for it).
        let mut roles: Vec<String> = Vec::new();
        for role in ClientRole::ALL {
            if permits(role, false, *capability) {
                roles.push(role.as_str().into());
            } else if permits(role, true, *capability) {
                roles.push(format!("{role}+unit"));
            }
        }
        let line = serde_json::json!({
            "method": method,
            "path": path,
            "capability": capability,
            "roles": roles,
        });
        // A closed pipe (`| head`) ends the listing quietly.
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

fn parse_role(s: &str) -> Result<ClientRole, String> {
    ClientRole::parse(s).ok_or_else(|| {
        let all: Vec<&str> = ClientRole::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?} (one of: {})", all.join(", "))
    })
}

pub(crate) async fn client(
    data: &Path,
    command: ClientCommand,
    lang: Lang,
    routes: &[crate::ApiRoute],
) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    if let ClientCommand::Permissions = command {
        print_permissions(routes);
        return Ok(());
    }
    let sahih = open(data).await.map_err(core)?;
    match command {
        ClientCommand::Permissions => {}
        ClientCommand::Add {
            name,
            allow_ip,
            class,
            admin,
            role,
            unit,
            person_nik,
        } => {
            let role = if admin { ClientRole::Admin } else { role };
            let secret = sahih
                .add_api_client(
                    &sahih_core::requests::ClientSpec {
                        name: &name,
                        allow_ips: &allow_ip,
                        default_class: class.as_deref(),
                        role,
                        unit: unit.as_deref(),
                        person_nik: person_nik.as_deref(),
                    },
                    "cli",
                )
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Klien API {name} dibuat. Simpan kredensial di bawah ini: tidak akan ditampilkan lagi."
                ),
                Lang::En => println!(
                    "API client {name} created. Keep the credential below: it is not shown again."
                ),
            }
            println!("{name}:{secret}");
        }
        ClientCommand::List => {
            let clients = sahih
                .store
                .api_clients()
                .await
                .map_err(|e| core(e.into()))?;
            if clients.is_empty() {
                match lang {
                    Lang::Id => println!("Belum ada klien API."),
                    Lang::En => println!("No API clients yet."),
                }
            }
            for c in clients {
                let state = match (c.disabled, lang) {
                    (true, Lang::Id) => "nonaktif",
                    (true, Lang::En) => "disabled",
                    (false, Lang::Id) => "aktif",
                    (false, Lang::En) => "enabled",
                };
                let ips = if c.allow_ips.is_empty() {
                    "*".to_string()
                } else {
                    c.allow_ips.join(",")
                };
                println!(
                    "{}\t{state}\trole={}{}\tip={ips}\tclass={}\t{}",
                    c.name,
                    c.role,
                    c.unit
                        .as_deref()
                        .map(|u| format!(" unit={u}"))
                        .unwrap_or_default(),
                    c.default_class.as_deref().unwrap_or("-"),
                    sahih_core::format_wib(c.created_at, lang)
                );
            }
        }
        ClientCommand::Disable { name } => {
            sahih
                .set_api_client_disabled(&name, true, "cli")
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!("Klien API {name} dinonaktifkan."),
                Lang::En => println!("API client {name} disabled."),
            }
        }
        ClientCommand::ErrorShape { name, shape } => {
            sahih
                .set_client_error_shape(
                    &name,
                    shape,
                    &sahih_core::pipeline::Door::cli().audit_name(),
                )
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!("Klien API {name} kini menerima galat berbentuk {shape}."),
                Lang::En => println!("API client {name} now gets {shape}-shaped errors."),
            }
        }
        ClientCommand::Enable { name } => {
            sahih
                .set_api_client_disabled(&name, false, "cli")
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!("Klien API {name} diaktifkan."),
                Lang::En => println!("API client {name} enabled."),
            }
        }
    }
    sahih.store.close().await;
    Ok(())
}

pub(crate) async fn policy(data: &Path, command: PolicyCommand, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    match command {
        PolicyCommand::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let policy = Policy::from_toml(&text)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            sahih
                .load_policy(&policy, &file.display().to_string(), "cli")
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Kebijakan dimuat: {} kelas dokumen, kelas bawaan {}.",
                    policy.classes.len(),
                    policy.default_class
                ),
                Lang::En => println!(
                    "Policy loaded: {} document classes, default class {}.",
                    policy.classes.len(),
                    policy.default_class
                ),
            }
        }
        PolicyCommand::Show => {
            let policy = sahih.policy().await.map_err(core)?;
            let text =
                toml::to_string_pretty(&policy).map_err(|e| Failure::usage(e.to_string()))?;
            print!("{text}");
        }
    }
    sahih.store.close().await;
    Ok(())
}

pub(crate) async fn audit(data: &Path, command: AuditCommand, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    let result = match command {
        AuditCommand::Verify => match sahih.verify_audit().await.map_err(core)? {
            Ok(check) => {
                let anchor = check
                    .last_anchor
                    .map(|(seq, t)| match lang {
                        Lang::Id => format!(
                            "; entri #{seq} dibuktikan cap waktu TSA {}",
                            sahih_core::format_wib(t, lang)
                        ),
                        Lang::En => format!(
                            "; entry #{seq} proven by a TSA timestamp at {}",
                            sahih_core::format_wib(t, lang)
                        ),
                    })
                    .unwrap_or_default();
                let tail = check.entries as i64 - check.last_anchor.map(|(s, _)| s).unwrap_or(0);
                let pending = match (tail, lang) {
                    (0, _) => String::new(),
                    (n, Lang::Id) => {
                        format!("; {n} entri terbaru belum dijangkarkan (masih dalam tenggat)")
                    }
                    (n, Lang::En) => {
                        format!("; {n} newest entries not anchored yet (within the grace period)")
                    }
                };
                match lang {
                    Lang::Id => println!(
                        "Log audit utuh: {} entri, {} cap waktu TSA instansi ini{anchor}; {} jangkar cocok dengan berkas saksi{pending}.",
                        check.entries, check.anchors, check.witnessed
                    ),
                    Lang::En => println!(
                        "Audit log intact: {} entries, {} timestamps from this institution's TSA{anchor}; {} anchors match the witness file{pending}.",
                        check.entries, check.anchors, check.witnessed
                    ),
                }
                Ok(())
            }
            Err(fault) => {
                let first = fault.first_bad_seq();
                Err(Failure {
                    code: 1,
                    message: match lang {
                        Lang::Id => format!(
                            "Log audit RUSAK: {} (entri pertama yang bermasalah: #{first})",
                            fault.message(lang)
                        ),
                        Lang::En => format!(
                            "Audit log BROKEN: {} (first bad entry: #{first})",
                            fault.message(lang)
                        ),
                    },
                })
            }
        },
        AuditCommand::Export { from, to, output } => {
            let entries = sahih
                .store
                .audit_entries(from, to.unwrap_or(i64::MAX))
                .await
                .map_err(|e| core(e.into()))?;
            let mut out = String::new();
            for e in &entries {
                out.push_str(&serde_json::to_string(e).map_err(|e| Failure::usage(e.to_string()))?);
                out.push('\n');
            }
            match output {
                Some(path) => {
                    sahih_core::service::write_atomically(&path, &[out.as_bytes()]).map_err(core)?
                }
                None => {
                    let _ = std::io::stdout().write_all(out.as_bytes());
                }
            }
            Ok(())
        }
        AuditCommand::Anchor => {
            let services = sahih.trust_services().await.map_err(core)?;
            match sahih.anchor_audit_head(&services).await.map_err(core)? {
                Some(seq) => match lang {
                    Lang::Id => println!("Kepala rantai audit (#{seq}) diberi cap waktu TSA."),
                    Lang::En => println!("Audit chain head (#{seq}) timestamped by the TSA."),
                },
                None => match lang {
                    Lang::Id => println!("Tidak ada entri baru untuk diberi cap waktu."),
                    Lang::En => println!("No new entries to timestamp."),
                },
            }
            Ok(())
        }
    };
    sahih.store.close().await;
    result
}

pub(crate) async fn outbox(data: &Path, email: &str, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    let messages = sahih
        .store
        .outbox(email)
        .await
        .map_err(|e| core(e.into()))?;
    if messages.is_empty() {
        match lang {
            Lang::Id => println!("Tidak ada pesan untuk {email}."),
            Lang::En => println!("No messages for {email}."),
        }
    }
    for m in messages {
        let body = sahih.outbox_body(&m).map_err(core)?;
        println!(
            "To: {}\nSubject: {}\n\n{}\n",
            m.recipient,
            m.subject,
            body.as_str()
        );
    }
    sahih.store.close().await;
    Ok(())
}
