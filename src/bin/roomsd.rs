//! `roomsd`: the room-device controller daemon. See `roomsd --help`, roomsd(8) and docs/INSTALL.md.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use roomsd::config::{self, Config};
use roomsd::daemon::{Daemon, Hosting, StartError};
use roomsd::manpage::{self, Section};
use roomsd::systemd;

#[derive(Parser)]
#[command(
    version,
    about = "Room-device controller: serves the Rooms control protocol over WebSocket"
)]
struct Args {
    /// Configuration file [default: /etc/roomsd/roomsd.toml if it exists, else built-in defaults]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to serve, overriding server.listen
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// Password clients must send, overriding server.password
    #[arg(long, env = "ROOMSD_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Log format (levels come from RUST_LOG, default info)
    #[arg(long, value_enum, default_value_t = LogFormat::Auto, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Rooms protocol (the default)
    Serve,
    /// Check a configuration file: exit 0, or exit 2 naming the line and the problem
    CheckConfig { file: PathBuf },
    /// Print the full default configuration, commented
    PrintDefaultConfig,
    /// Print the man page (roff), as the Debian package installs it
    #[command(hide = true)]
    Man,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// The journal when systemd runs roomsd, else text
    Auto,
    /// Human-readable lines on stderr
    Text,
    /// One JSON object per line on stderr
    Json,
    /// Native journal entries, with every field as a journal field
    Journald,
}

/// The man page's sections beyond what clap describes.
const MAN_SECTIONS: &[Section] = &[
    Section {
        title: "CONFIGURATION",
        roff: r#"A TOML file; every key is optional and an unknown key is an error.
Without \fB\-\-config\fR, roomsd reads \fI/etc/roomsd/roomsd.toml\fR if it exists,
else it uses the built-in defaults: the embedded simulator on 127.0.0.1:6295, no password.
\fB\-\-listen\fR, \fB\-\-password\fR and \fBROOMSD_PASSWORD\fR override the file.
.PP
\fBroomsd print\-default\-config\fR prints every key with its default and a comment.
\fBroomsd check\-config\fR \fIFILE\fR names the line and key of the first problem.
The configuration is read once, at start: restart the service to apply a change.
Every key is described in \fI/usr/share/doc/roomsd/CONFIGURATION.md\fR.
.PP
Without a password roomsd serves loopback addresses only, unless
\fBserver.allow_unauthenticated_lan\fR is true.
Keep the password out of the file with \fBserver.password_file\fR, for example a systemd
credential (\fBLoadCredential=\fR).
"#,
    },
    Section {
        title: "FILES",
        roff: r#".TP
\fI/etc/roomsd/roomsd.toml\fR
The configuration (a conffile of the Debian package).
.TP
\fI/var/lib/roomsd/state.json\fR
The device settings that survive a restart: volumes, microphone and camera defaults, camera
framing. The directory is \fBroom.state_dir\fR, or systemd's \fBStateDirectory\fR.
.TP
\fI/usr/lib/systemd/system/roomsd.service\fR
The hardened service unit.
.TP
\fI/usr/share/doc/roomsd/examples/roomsd.socket\fR
An optional socket unit for socket activation.
.TP
\fI/usr/share/doc/roomsd/\fR
PROTOCOL.md (the wire protocol and its error codes), CONFIGURATION.md, INSTALL.md,
BACKENDS.md, and the JSON Schemas in \fIschemas/\fR.
"#,
    },
    Section {
        title: "ENVIRONMENT",
        roff: r#".TP
\fBROOMSD_PASSWORD\fR
The password, as \fB\-\-password\fR.
.TP
\fBRUST_LOG\fR
Log levels, e.g. \fBinfo\fR (the default), \fBroomsd=debug\fR.
.TP
\fBSTATE_DIRECTORY\fR, \fBLISTEN_FDS\fR, \fBNOTIFY_SOCKET\fR, \fBWATCHDOG_USEC\fR, \fBJOURNAL_STREAM\fR
Set by systemd: where the state is kept, the socket of socket activation, readiness and
watchdog notifications, and whether stderr is the journal.
"#,
    },
    Section {
        title: "SIGNALS",
        roff: r#".TP
\fBSIGTERM\fR, \fBSIGINT\fR
Stop accepting connections, close every client with WebSocket close code 1001, let backend
operations under way finish or time out, and exit 0.
.PP
No signal reloads the configuration.
"#,
    },
    Section {
        title: "EXIT STATUS",
        roff: r#".TP
\fB0\fR
Stopped by SIGTERM or SIGINT; or \fBcheck\-config\fR found no problem.
.TP
\fB1\fR
A failure at run time: the address cannot be listened on (in use, or not permitted), the
socket systemd passed cannot be used, or an internal error stopped the daemon.
The service unit restarts roomsd after it.
.TP
\fB2\fR
A configuration or usage error: an unreadable or invalid file, a bad value, a key the
configured backend needs is missing, or a non-loopback address without a password.
The service unit does not restart roomsd after it (\fBRestartPreventExitStatus=2\fR).
"#,
    },
    Section {
        title: "EXAMPLES",
        roff: r#"Serve the embedded simulator on 127.0.0.1:6295, for a first look:
.PP
.RS
roomsd
.RE
.PP
Serve the room's LAN with a password:
.PP
.RS
ROOMSD_PASSWORD=secret roomsd \-\-listen 0.0.0.0:6295
.RE
.PP
Start from the defaults, then check the edited file before restarting the service:
.PP
.RS
.nf
roomsd print\-default\-config > roomsd.toml
roomsd check\-config roomsd.toml
.fi
.RE
.PP
Follow the service's log, with debug messages from roomsd:
.PP
.RS
.nf
systemctl edit roomsd    # [Service] Environment=RUST_LOG=roomsd=debug
journalctl \-u roomsd \-f
.fi
.RE
"#,
    },
    Section {
        title: "SEE ALSO",
        roff: "\\fBroomsctl\\fR(1), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1)\n",
    },
];

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::CheckConfig { ref file }) => check_config(file),
        Some(Command::PrintDefaultConfig) => {
            print!("{}", Config::default_text(&roomsd::backend::sections()));
            ExitCode::SUCCESS
        }
        Some(Command::Man) => {
            let command = <Args as clap::CommandFactory>::command();
            let page = manpage::render(
                command,
                "8",
                "System Administration",
                MAN_SECTIONS,
                &mut std::io::stdout(),
            );
            match page {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("roomsd: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Serve) | None => serve(args),
    }
}

fn check_config(file: &Path) -> ExitCode {
    match Config::load(file, &roomsd::backend::sections()).and_then(|config| {
        config.check().map_err(|message| config::ConfigError {
            path: file.to_owned(),
            message,
        })
    }) {
        Ok(()) => {
            println!("{}: ok", file.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let journald = match format {
        LogFormat::Auto if stderr_is_the_journal() => journal_layer().ok(),
        LogFormat::Journald => match journal_layer() {
            Ok(layer) => Some(layer),
            Err(error) => {
                eprintln!("roomsd: cannot reach the journal ({error}): logging to stderr");
                None
            }
        },
        _ => None,
    };
    if let Some(journald) = journald {
        // Structured fields become journal fields (CONN_ID, METHOD, REQUEST_ID, CODE, ...).
        tracing_subscriber::registry()
            .with(filter)
            .with(journald)
            .init();
        return;
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for people: a log file gets plain text.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Auto | LogFormat::Text | LogFormat::Journald => builder.init(),
    }
}

/// Journal entries whose fields keep their names (`CONN_ID`, `METHOD`, `CODE`, ...) rather than
/// tracing-journald's default `F_` prefix.
fn journal_layer() -> std::io::Result<tracing_journald::Layer> {
    tracing_journald::layer().map(|layer| layer.with_field_prefix(None))
}

/// Whether systemd connected stderr to the journal: `JOURNAL_STREAM` names the device and inode
/// of that stream (systemd.exec(5)), which a redirected stderr no longer matches.
fn stderr_is_the_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;

    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let stderr = std::io::stderr();
    let Ok(fd) = stderr.as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.dev().to_string() == dev && m.ino().to_string() == ino)
}

/// The configuration to serve: the file, then the environment and flags over it.
fn load(args: &Args) -> Result<Config, String> {
    let default_path = Path::new(config::DEFAULT_PATH);
    let mut config = match &args.config {
        Some(path) => {
            Config::load(path, &roomsd::backend::sections()).map_err(|e| e.to_string())?
        }
        None if default_path.exists() => {
            Config::load(default_path, &roomsd::backend::sections()).map_err(|e| e.to_string())?
        }
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(password) = &args.password {
        config.server.password.clone_from(password);
    }
    config.check()?;
    Ok(config)
}

fn serve(args: Args) -> ExitCode {
    init_logging(args.log_format);
    let config = match load(&args) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let exit = runtime.block_on(async move {
        let listener = match systemd::activated_listener() {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "cannot use the socket systemd passed");
                return ExitCode::FAILURE;
            }
        };
        if let Some(addr) = listener.as_ref().and_then(|l| l.local_addr().ok()) {
            tracing::info!(%addr, "socket activation: serving the socket systemd passed, not server.listen");
        }
        let hosting = Hosting {
            listener,
            heartbeat: systemd::watchdog(),
        };
        let daemon = match Daemon::start_hosted(config, hosting).await {
            Ok(daemon) => daemon,
            // A configuration problem: exit 2, which the unit does not restart.
            Err(error @ StartError::Exposed(_)) => {
                tracing::error!("{error}");
                return ExitCode::from(2);
            }
            Err(error) => {
                tracing::error!("{error}");
                return ExitCode::FAILURE;
            }
        };
        systemd::ready(daemon.local_addr());
        let shutdown = daemon.shutdown_token();
        tokio::spawn(async move {
            let signal = wait_for_signal().await;
            tracing::info!(signal, "stopping: closing clients");
            systemd::stopping();
            shutdown.cancel();
        });
        match daemon.stopped().await {
            Ok(()) => ExitCode::SUCCESS,
            // Not asked to stop: a failure the service manager restarts the daemon for.
            Err(crashed) => {
                tracing::error!("{crashed}");
                ExitCode::FAILURE
            }
        }
    });
    // Everything has stopped; only a file read stuck on a hung file system could remain, and it
    // must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    exit
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
