//! `roomsctl`: command-line client for the Rooms control protocol that roomsd serves (roomsctl(1)).
//!
//! `args` is the command line, `connect` the connection, `registry` what the crate says about
//! modules, actions and parameters, `params` their check, `call` an action and its outcome,
//! `render` the output for people.

mod args;
mod call;
mod connect;
mod man;
mod params;
mod registry;
mod render;

use std::process::ExitCode;
use std::time::Duration;

use clap::FromArgMatches as _;
use futures_util::stream::{self, StreamExt as _};
use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::ws_client::WsClient;
use serde_json::{Value, json};

use args::{Cli, Command};
use connect::{Failure, Link, cause, request};
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
        Command::Watch { path } => watch(link, cli, rpc, path).await,
        Command::Call(_) | Command::Actions { .. } | Command::Completions { .. } | Command::Man => {
            unreachable!("handled in main_result: call with its checked target, the rest offline")
        }
    }
}

/// Prints an answer (indented, or one compact line) and turns its `error_code` into the exit
/// status.
fn report(result: &Value, compact: bool) -> Result<ExitCode, Failure> {
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

/// The Subscribe path of `watch`: module and event in their registry names.
fn watch_path(path: &[String]) -> Result<Vec<String>, Failure> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = registry::with_events().map(|m| m.name).collect();
    let module = registry::module(first)
        .filter(|m| !m.events.is_empty())
        .ok_or_else(|| {
            Failure::usage(format!(
                "no module {first:?} with events; those with events: {}",
                names.join(", ")
            ))
        })?;
    let mut canonical = vec![module.name.to_owned()];
    if let Some(event) = rest.first() {
        let event = registry::event(module, event).ok_or_else(|| {
            let events = module.events.join(", ");
            Failure::usage(format!(
                "{} has no event {event:?}; its events: {events}",
                module.name
            ))
        })?;
        canonical.push(event.to_owned());
    }
    if rest.len() > 1 {
        return Err(Failure::usage("watch takes a module and at most one event"));
    }
    Ok(canonical)
}

/// Subscribes and prints events until Ctrl-C (exit 0) or until the connection ends (exit 3).
async fn watch(
    link: &Link,
    cli: &Cli,
    rpc: &WsClient,
    path: &[String],
) -> Result<ExitCode, Failure> {
    let path = watch_path(path)?;
    // Listen before subscribing, so that no event slips between the two.
    let mut streams = Vec::new();
    for module in registry::with_events() {
        let method = format!("Event/{}", module.name);
        let subscription = rpc.subscribe_to_method::<Value>(&method).await;
        let subscription = subscription.map_err(|e| link.lost(cause(e)))?;
        streams.push(subscription.map(move |params| (module.name, params)));
    }
    let answer = request(link, rpc, "Subscribe", json!({"path": path})).await?;
    if answer["error_code"] != 0 {
        return report(&answer, cli.json);
    }
    let watching = render::subscriptions(&answer["data"]["subscriptions"]);
    eprintln!("roomsctl: watching {watching}; Ctrl-C to stop");
    let mut events = stream::select_all(streams);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
            event = events.next() => match event {
                Some((_, Ok(params))) if cli.json => emit(&params.to_string()),
                Some((module, Ok(params))) => emit(&render::event_line(module, &params)),
                Some((module, Err(e))) => eprintln!("roomsctl: undecodable Event/{module}: {e}"),
                // The streams end with the connection (or if roomsctl fell too far behind).
                None => {
                    let gone = tokio::time::timeout(Duration::from_secs(1), rpc.on_disconnect());
                    let why = gone.await.map_or_else(|_| "events dropped".into(), cause);
                    return Err(link.lost(format!("connection lost: {why}")));
                }
            },
        }
    }
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
fn unknown_action(module: &roomsd::schema::Module, action: &str) -> String {
    let typed = registry::fold(action);
    // Near means a typo in the whole name, or in its start for a shortened one (`Jion`);
    // among near ones, the nearest whole name (`leave` → LeaveMeeting).
    let nearness = |known: &&&str| {
        let known = registry::fold(known);
        let whole = strsim::damerau_levenshtein(&known, &typed);
        let start = &known[..typed.len().min(known.len())];
        let start_typo = typed.len() >= 3 && strsim::damerau_levenshtein(start, &typed) <= 1;
        let far = !(whole <= 2 || start_typo);
        (far, whole)
    };
    let guess = match module.actions.iter().min_by_key(nearness) {
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
        None => run(&link, &cli, None).await,
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
