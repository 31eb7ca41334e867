//! `renkei admin`: facilities and users, for the network's operator.

use crate::config::CommonArgs;
use anyhow::Result;
use clap::{Args, Subcommand};
use renkei_app::NewUserRequest;
use renkei_app::facilities::NewFacility;
use renkei_domain::{FacilityKind, Profession, Role};
use serde_json::json;

#[derive(Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    what: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Participating facilities.
    Facility {
        #[command(subcommand)]
        cmd: FacilityCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        cmd: UserCommand,
    },
    /// The council's access matrix (profession × category, facility kind × category).
    Policy {
        #[command(subcommand)]
        cmd: PolicyCommand,
    },
    /// 名寄せ: train the model on the network's residents (run after a migration, and now
    /// and then as the network grows).
    Mpi {
        #[command(subcommand)]
        cmd: MpiCommand,
    },
}

#[derive(Subcommand)]
enum MpiCommand {
    /// Estimate the matching model (EM) from the residents and keep it as the next version.
    Train {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Show the matrix in force.
    Show {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// Install a new version from a JSON file (the format `policy show --json` prints).
    Set {
        #[arg(long)]
        file: std::path::PathBuf,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum FacilityCommand {
    /// Add a participating facility.
    Add {
        /// 医療機関コード (10 digits, with check digit) or 介護保険事業所番号.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// hospital, medical-clinic, dental-clinic, pharmacy, home-nursing-station,
        /// care-facility, care-management-office, community-support-centre
        #[arg(long)]
        kind: FacilityKind,
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List facilities.
    List {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// Issue an upload credential for the facility's gateway (shown once).
    Credential {
        #[arg(long)]
        code: String,
        /// Write the credential file here (mode 0600) instead of printing it.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints the initial password and the TOTP secret once.
    Add {
        /// The facility's code.
        #[arg(long)]
        facility: String,
        #[arg(long)]
        login: String,
        /// physician, dentist, pharmacist, nurse, home-visit-nurse, public-health-nurse,
        /// dental-hygienist, physical-therapist, occupational-therapist, speech-therapist,
        /// care-manager, care-worker, medical-social-worker, clerk
        #[arg(long)]
        profession: Profession,
        /// clinical, clerk, facility-admin, network-office (repeat or comma-separate)
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<Role>,
        /// Display name (defaults to the login name).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// Give a user a new random password (also unlocks the account).
    ResetPassword {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        login: String,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(args: AdminArgs) -> Result<()> {
    match args.what {
        AdminCommand::Mpi {
            cmd: MpiCommand::Train { common, json },
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let v = app.train_mpi(None).await?;
            if json {
                println!("{}", json!({"model_version": v}));
            } else {
                println!("名寄せ model version {v} trained and in use");
            }
        }
        AdminCommand::Policy { cmd } => match cmd {
            PolicyCommand::Show { common, json } => {
                let app = common.settings(None, None)?.open_app().await?;
                let m = app.matrix().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&m)?);
                } else {
                    print_matrix(&m);
                }
            }
            PolicyCommand::Set { file, common, json } => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                let m: renkei_domain::AccessMatrix = serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("{} is not an access matrix: {e}", file.display())
                })?;
                let app = common.settings(None, None)?.open_app().await?;
                let m = app.set_matrix(None, m).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&m)?);
                } else {
                    println!("access matrix version {} is now in force", m.version);
                }
            }
        },
        AdminCommand::Facility { cmd } => match cmd {
            FacilityCommand::Add {
                code,
                name,
                kind,
                common,
                json,
            } => {
                let app = common.settings(None, None)?.open_app().await?;
                let f = app
                    .add_facility(
                        None,
                        &NewFacility {
                            code,
                            name,
                            kind,
                            joined_on: None,
                        },
                    )
                    .await
                    .map_err(explain)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&f)?);
                } else {
                    println!("added facility {} {} ({})", f.code, f.name, f.kind);
                }
            }
            FacilityCommand::Credential {
                code,
                output,
                common,
                json,
            } => {
                let app = common.settings(None, None)?.open_app().await?;
                let cred = app
                    .issue_facility_credential(None, &code)
                    .await
                    .map_err(explain)?;
                let text = serde_json::to_string_pretty(&cred)?;
                match output {
                    Some(path) => {
                        write_private(&path, &text)?;
                        if json {
                            println!("{}", json!({"written": path}));
                        } else {
                            println!(
                                "credential for {} written to {}",
                                cred.facility_code,
                                path.display()
                            );
                        }
                    }
                    None => println!("{text}"),
                }
            }
            FacilityCommand::List { common, json } => {
                let app = common.settings(None, None)?.open_app().await?;
                let list = app.facilities().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&list)?);
                } else {
                    for f in list {
                        let state = match f.withdrawn_on {
                            Some(d) => format!("withdrawn {d}"),
                            None => format!("since {}", f.joined_on),
                        };
                        println!("{}  {:<26} {}  ({state})", f.code, f.kind.as_str(), f.name);
                    }
                }
            }
        },
        AdminCommand::User { cmd } => match cmd {
            UserCommand::Add {
                facility,
                login,
                profession,
                roles,
                name,
                common,
                json,
            } => {
                let app = common.settings(None, None)?.open_app().await?;
                let created = app
                    .create_user(
                        None,
                        &NewUserRequest {
                            facility_code: facility,
                            display_name: name.unwrap_or_else(|| login.clone()),
                            login,
                            profession,
                            roles,
                            enrol_totp_now: true,
                        },
                    )
                    .await
                    .map_err(explain)?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json!({
                            "user": created.user,
                            "facility_code": created.facility.code,
                            "initial_password": created.initial_password,
                            "totp_secret": created.totp_secret,
                            "recovery_codes": created.recovery_codes,
                        }))?
                    );
                } else {
                    println!(
                        "added user {} at {} ({})",
                        created.user.login, created.facility.code, created.facility.name
                    );
                    println!("initial password: {}", created.initial_password);
                    if let Some(s) = &created.totp_secret {
                        println!("TOTP secret (base32, add to an authenticator app): {s}");
                    }
                    if !created.recovery_codes.is_empty() {
                        println!(
                            "recovery codes (each works once in place of a TOTP code): {}",
                            created.recovery_codes.join(" ")
                        );
                    }
                    println!(
                        "Shown once: the password and recovery codes are kept only as hashes, and the TOTP secret is not shown again."
                    );
                }
            }
            UserCommand::ResetPassword {
                facility,
                login,
                common,
                json,
            } => {
                let app = common.settings(None, None)?.open_app().await?;
                let (user, password) = app
                    .reset_password(None, &facility, &login)
                    .await
                    .map_err(explain)?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json!({"user": user, "password": password}))?
                    );
                } else {
                    println!("new password for {}: {password}", user.login);
                }
            }
        },
    }
    Ok(())
}

/// English CLI messages for the errors an operator can fix.
fn explain(e: renkei_app::AppError) -> anyhow::Error {
    use renkei_app::AppError as E;
    match e {
        E::FacilityCode(c) => anyhow::anyhow!("invalid facility code: {c}"),
        E::Duplicate(what) => anyhow::anyhow!("{what} already exists"),
        E::NotFound(what) => anyhow::anyhow!("{what} not found"),
        E::Invalid { field, .. } => anyhow::anyhow!("invalid {field}"),
        other => anyhow::Error::new(other),
    }
}

fn print_matrix(m: &renkei_domain::AccessMatrix) {
    use renkei_domain::AccessCategory;
    println!("access matrix version {}", m.version);
    let header: Vec<&str> = AccessCategory::ALL.iter().map(|c| c.as_str()).collect();
    println!("{:<26} {}", "", header.join(" "));
    let row = |name: &str, set: Option<&std::collections::BTreeSet<AccessCategory>>| {
        let cells: Vec<String> = AccessCategory::ALL
            .iter()
            .map(|c| {
                let mark = if set.is_some_and(|s| s.contains(c)) {
                    "x"
                } else {
                    "."
                };
                format!("{mark:^width$}", width = c.as_str().len())
            })
            .collect();
        println!("{name:<26} {}", cells.join(" "));
    };
    for p in Profession::ALL {
        row(p.as_str(), m.by_profession.get(&p));
    }
    println!();
    for k in FacilityKind::ALL {
        row(k.as_str(), m.by_facility_kind.get(&k));
    }
}

/// Write a secret file readable by its owner only.
fn write_private(path: &std::path::Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}
