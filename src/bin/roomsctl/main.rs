//! `roomsctl`: command-line client for the Rooms control protocol that roomsd serves (roomsctl(1)).
//!
//! `args` is the command line, `connect` the connection, `registry` what the crate says about
//! modules, actions and parameters, `params` their check, `call` an action and its outcome,
//! `render` the output for people.

mod args;
mod call;
mod connect;
mod fleet;
mod fleet_table;
mod man;
mod params;
mod registry;
mod render;
mod watch;

use std::process::ExitCode;
use std::time::Duration;

use clap::FromArgMatches as _;
use jsonrpsee::ws_client::WsClient;
use serde_json::{Value, json};

use args::{Cli, Command};
use connect::{Failure, Link, request};
use render::emit;

/// Connects, runs the command, and closes the connection cleanly.
async fn run(link: &Link, cli: &Cli, call: Option<call::Call<'_>>) -> Result<ExitCode, Failure> {
    let (rpc, closed) = connect::connect(link).await?;
    let outcome = match call {
        Some(call) => call::run(link, &rpc, &call).await,
        None => command(link, cli, &rpc).await,
    };
    drop(rpc); // jsonrpsee's background task then sends a close frame: give it a moment
    let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
    outcome
}

async fn command(link: &Link, cli: &Cli, rpc: &WsClient) -> Result<ExitCode, Failure> {
    match &cli.command {
        Command::Query { path } => {
            let path = registry::query_path(path);
            let result = request(link, rpc, "Query", json!({"path": path})).await?;
            report(&result, cli.json)
        }
        Command::Status => {
            let result = request(link, rpc, "Query", json!({"path": []})).await?;
            if cli.json || result["error_code"] != 0 {
                return report(&result, cli.json);
            }
            render::status(&result["data"])
                .iter()
                .for_each(|line| emit(line));
            Ok(ExitCode::SUCCESS)
        }
        Command::Call(_)
        | Command::Fleet(_)
        | Command::Watch { .. }
        | Command::Actions { .. }
        | Command::Completions { .. }
        | Command::Man => {
            unreachable!("handled in main_result: call and watch with their own connections")
        }
    }
}

/// Prints an answer (indented, or one compact line) and turns its `error_code` into the exit
/// status.
pub fn report(result: &Value, compact: bool) -> Result<ExitCode, Failure> {
    if compact {
        emit(&result.to_string());
    } else {
        emit(&format!("{result:#}"));
    }
    if result["error_code"] == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    Err(Failure(1, call::error_text(result)))
}

/// `roomsctl actions [MODULE]`, from the registry; no connection needed.
fn actions(module: Option<&str>) -> Result<ExitCode, Failure> {
    let modules: Vec<_> = match module {
        None => registry::callable().collect(),
        Some(name) => {
            let module = registry::module(name).filter(|m| !m.actions.is_empty());
            let names: Vec<&str> = registry::callable().map(|m| m.name).collect();
            let module = module.ok_or_else(|| {
                Failure::usage(format!(
                    "no module {name:?} with actions; those with actions: {}",
                    names.join(", ")
                ))
            })?;
            vec![module]
        }
    };
    render::actions(&modules).iter().for_each(|line| emit(line));
    Ok(ExitCode::SUCCESS)
}

/// An action the registry does not have, with the nearest one it has.
fn unknown_action(module: &roomsd::modules::Module, action: &str) -> String {
    let typed = registry::fold(action);
    // Near means a typo in the whole name, or in its start for a shortened one (`Jion`);
    // among near ones, the nearest whole name (`leave` → LeaveMeeting).
    let nearness = |known: &&str| {
        let known = registry::fold(known);
        let whole = strsim::damerau_levenshtein(&known, &typed);
        let start = &known[..typed.len().min(known.len())];
        let start_typo = typed.len() >= 3 && strsim::damerau_levenshtein(start, &typed) <= 1;
        let far = !(whole <= 2 || start_typo);
        (far, whole)
    };
    let guess = match module.actions.iter().map(|a| a.name).min_by_key(nearness) {
        Some(nearest) if !nearness(&nearest).0 => format!(": did you mean `{nearest}`?"),
        _ => String::new(),
    };
    let name = module.name;
    format!(
        "{name} has no action `{action}`{guess} (`roomsctl actions {name}` lists them; \
         `roomsctl call --raw {name} {action} …` sends it anyway)"
    )
}

fn man() -> ExitCode {
    let page = roomsd::manpage::render(
        args::command(),
        "1",
        "User Commands",
        man::MAN_SECTIONS,
        &mut std::io::stdout(),
    );
    match page {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("roomsctl: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn main_result() -> Result<ExitCode, Failure> {
    let mut command = args::command();
    let argv = args::canonical_args(std::env::args_os().collect(), &command);
    let matches = command.clone().get_matches_from(argv);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let call = match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut command, "roomsctl", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Man => return Ok(man()),
        Command::Actions { module } => return actions(module.as_deref()),
        Command::Fleet(fleet) => {
            // `--password` is global; from ROOMSD_PASSWORD it is the room's, not the broker's.
            let typed =
                matches.value_source("password") == Some(clap::parser::ValueSource::CommandLine);
            let password = match typed {
                true => cli.password.clone(),
                false => std::env::var("ROOMSCTL_BROKER_PASSWORD").ok(),
            };
            return fleet::run(fleet, password, cli.timeout, cli.json).await;
        }
        Command::Call(options) => {
            let target = args::call_target(&matches).expect("clap requires them");
            let module = registry::module(target.module).expect("a registry subcommand");
            let (action, given) = (target.action, target.given.map_err(Failure::usage)?);
            let action = match registry::action(module, action) {
                Some(action) => action,
                None if options.raw => action,
                None => return Err(Failure::usage(unknown_action(module, action))),
            };
            Some((module, action, given, options))
        }
        _ => None,
    };
    let link = Link::new(&cli.url, cli.password.clone(), cli.timeout)?;
    match call {
        Some((module, action, given, options)) => {
            let call = call::Call {
                module,
                action,
                given: &given,
                wait: !options.no_wait,
                wait_timeout: options.wait_timeout,
                json: cli.json,
            };
            call::check(&call, options.raw)?;
            run(&link, &cli, Some(call)).await
        }
        None => match &cli.command {
            // Reconnects by itself, so it makes its own connections.
            Command::Watch { path } => watch::watch(&link, cli.json, path).await,
            _ => run(&link, &cli, None).await,
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    main_result()
        .await
        .unwrap_or_else(|Failure(code, message)| {
            eprintln!("roomsctl: {message}");
            ExitCode::from(code)
        })
}
