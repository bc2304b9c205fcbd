//! The command line. The fixed part is clap's derive; `call`'s modules and actions, their help
//! and their parameters' completions are subcommands built at run time from the registry, so
//! `roomsctl call Meeting --help` and the completion scripts list exactly what the daemon takes.

use std::ffi::{OsStr, OsString};

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Arg, ArgMatches, Args, CommandFactory as _, Parser, Subcommand};

use crate::params::{self, Given};
use crate::registry;
use crate::render;

const LONG_ABOUT: &str = "\
Command-line client for roomsd (the Rooms control protocol: JSON-RPC 2.0 over WebSocket).

`status` says how the room is. `call` runs an action and, when the action is asynchronous,
waits for the event that tells its outcome. `watch` prints one line per event. `actions` lists
every action and its parameters. With --json, every result and event is one compact JSON line.";

const EXIT_STATUS: &str = "\
Exit status:
  0  the server answered with error_code 0, and so did the outcome event (watch: stopped with
     Ctrl-C)
  1  the server answered with a non-zero error_code, in the answer or in the outcome event
  2  usage error, including parameters the action's schema refuses
  3  connection failure: cannot connect, handshake refused (e.g. HTTP 401 for a wrong or
     missing password), no answer within --timeout, or connection lost (watch connects
     again instead, once it has connected, and prints the events it missed)
  4  the action was accepted but its outcome event did not come within --wait-timeout";

#[derive(Parser)]
#[command(
    name = "roomsctl",
    version,
    about = "Command-line client for roomsd",
    long_about = LONG_ABOUT,
    after_long_help = EXIT_STATUS
)]
pub struct Cli {
    /// WebSocket address of the daemon (`127.0.0.1:6295` is taken as `ws://127.0.0.1:6295`)
    #[arg(
        long,
        global = true,
        env = "ROOMSD_URL",
        hide_env_values = true,
        default_value = "ws://127.0.0.1:6295"
    )]
    pub url: String,
    /// Password, sent as `Sec-WebSocket-Protocol: auth-<base64>`; empty means none
    #[arg(long, global = true, env = "ROOMSD_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Print one compact JSON line per result or event
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for the handshake and for each answer
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Say how the room is: meeting, layout, microphone and camera, sharing, meeting service
    Status,
    /// Read a node of the state tree, e.g. `query Meeting MeetingInfo`; no path: every module
    Query {
        /// A module, then nodes below it, in any case, with or without underscores
        path: Vec<String>,
    },
    /// Run an action and wait for its outcome, e.g. `call Meeting JoinMeeting
    /// meeting_code=111222333 password=`; `call Meeting --help` lists a module's actions
    Call(CallArgs),
    /// Print events, one line each, until Ctrl-C: all (`watch`), a module's (`watch Meeting`)
    /// or one event (`watch Meeting LeaveMeeting`); a lost connection is made again and the
    /// events missed meanwhile are printed first
    Watch {
        /// A module with events, then one of its events, in any case (nothing: every module)
        path: Vec<String>,
    },
    /// List the actions of every module, or of one, with their parameters and how they end
    Actions {
        /// Only this module's actions
        module: Option<String>,
    },
    /// Every room at once, through the MQTT broker they publish to (`[mqtt]` in roomsd.toml):
    /// `fleet status`, `fleet query ROOM PATH…`, `fleet call ROOM MODULE ACTION …`, `fleet watch`.
    /// The broker's password is `--password` or ROOMSCTL_BROKER_PASSWORD
    Fleet(Box<crate::fleet::FleetArgs>),
    /// Print a shell completion script, e.g. `roomsctl completions bash > /etc/bash_completion.d/roomsctl`
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), as the Debian package installs it
    #[command(hide = true)]
    Man,
}

/// `call`'s options; the module, the action and its parameters are the subcommands below it.
#[derive(Args)]
pub struct CallArgs {
    /// Return at the acknowledgement, without waiting for the outcome event
    #[arg(long, global = true, overrides_with = "wait")]
    pub no_wait: bool,
    /// Wait for the event that tells an asynchronous action's outcome (the default)
    #[arg(long, global = true, overrides_with = "no_wait")]
    pub wait: bool,
    /// Seconds to wait for the outcome event (the daemon's default backend.timeout_ms is 15 s)
    #[arg(long, global = true, value_name = "SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub wait_timeout: u64,
    /// Send the parameters unchecked, and actions roomsctl does not know (a vendor's extras)
    #[arg(long, global = true)]
    pub raw: bool,
}

/// The full command line: the derive's, with `call`'s modules and actions from the registry.
pub fn command() -> clap::Command {
    let callable = registry::callable().map(|m| m.name).collect();
    let with_events = registry::with_events().map(|m| m.name).collect();
    Cli::command()
        .mut_subcommand("actions", |c| {
            c.mut_arg("module", |a| a.value_parser(Names(callable)))
        })
        .mut_subcommand("watch", |c| {
            c.mut_arg("path", |a| {
                a.value_parser(Names(with_events))
                    .hide_possible_values(true)
            })
        })
        .mut_subcommand("call", |call| {
            let call = call
                .subcommand_required(true)
                .arg_required_else_help(true)
                .disable_help_subcommand(true)
                .subcommand_value_name("MODULE")
                .subcommand_help_heading("Modules");
            call.subcommands(registry::callable().map(module_command))
        })
}

fn module_command(module: &'static roomsd::modules::Module) -> clap::Command {
    let names: Vec<&str> = module.actions.iter().map(|a| a.name).collect();
    let about = format!("Call/{}: {}", module.name, names.join(", "));
    clap::Command::new(module.name)
        .about(about)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .disable_help_subcommand(true)
        .subcommand_value_name("ACTION")
        .subcommand_help_heading("Actions")
        // Other names reach `main`, which sends them only with --raw (vendor or alias names
        // such as `LayoutSwitchChanged`).
        .allow_external_subcommands(true)
        .subcommands(
            module
                .actions
                .iter()
                .map(|action| action_command(module, action.name)),
        )
}

fn action_command(module: &'static roomsd::modules::Module, action: &'static str) -> clap::Command {
    let params = registry::params(module, action);
    let mut details = Vec::new();
    if params.is_empty() {
        details.push("No parameters.".into());
    } else {
        details.push(
            "Parameters (KEY=TEXT sends text, KEY:=JSON a number, true/false or JSON):".into(),
        );
        for param in &params {
            details.push(format!("  {:<24} {}", param.usage(), param.describe()));
        }
    }
    // clap keeps names as `&'static str`; the registry is fixed for the life of the process.
    let names: Vec<&'static str> = params.iter().map(|p| &*p.usage().leak()).collect();
    clap::Command::new(action)
        .about(synopsis(&params, &render::how_it_ends(module, action)))
        .after_help(details.join("\n"))
        .arg(
            Arg::new("params")
                .value_name("KEY=TEXT|KEY:=JSON")
                .help("The action's parameters, listed below")
                .num_args(0..)
                .hide_possible_values(true)
                .value_parser(ParamParser(names)),
        )
}

/// `meeting_code= [password=] …; async: ends with …`: what `call MODULE --help` lists.
fn synopsis(params: &[registry::Param], ends: &str) -> String {
    let words: Vec<String> = params
        .iter()
        .map(|p| match p.required {
            true => p.usage(),
            false => format!("[{}]", p.usage()),
        })
        .collect();
    match words.is_empty() {
        true => ends.to_owned(),
        false => format!("{}; {ends}", words.join(" ")),
    }
}

/// Parses `key=text` and `key:=json`; the parameter names are its possible values only for
/// the completion scripts, since `--raw` sends names the schema lacks.
#[derive(Clone)]
struct ParamParser(Vec<&'static str>);

impl TypedValueParser for ParamParser {
    type Value = Given;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Given, clap::Error> {
        let text = value.to_string_lossy();
        params::parse(&text).map_err(|why| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{why}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|name| PossibleValue::new(*name)),
        ))
    }
}

/// Any text, matched against the registry later in any case; the registry's names are its
/// possible values only for the completion scripts.
#[derive(Clone)]
struct Names(Vec<&'static str>);

impl TypedValueParser for Names {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|name| PossibleValue::new(*name)),
        ))
    }
}

/// The module, action and parameters of a parsed `call`.
/// `call`'s module and action as typed (after `canonical_args`), and its parameters or why
/// they cannot be read.
pub struct CallTarget<'a> {
    pub module: &'a str,
    pub action: &'a str,
    pub given: Result<Vec<Given>, String>,
}

pub fn call_target(matches: &ArgMatches) -> Option<CallTarget<'_>> {
    let (module, matches) = matches.subcommand_matches("call")?.subcommand()?;
    let (action, matches) = matches.subcommand()?;
    let given = match matches.try_get_many::<Given>("params") {
        Ok(given) => Ok(given.into_iter().flatten().cloned().collect()),
        // An action the registry does not know (sent only with --raw): its words are raw.
        Err(_) => matches
            .get_many::<OsString>("")
            .into_iter()
            .flatten()
            .map(|arg| match arg.to_string_lossy() {
                option if option.starts_with("--") => Err(format!(
                    "{option}: put options before the module for an action roomsctl does not know"
                )),
                param => params::parse(&param),
            })
            .collect(),
    };
    Some(CallTarget {
        module,
        action,
        given,
    })
}

/// Rewrites `call`'s module and action to their registry names before clap sees them, so that
/// `call meeting join_meeting` is `call Meeting JoinMeeting` (clap matches names exactly).
pub fn canonical_args(args: Vec<OsString>, command: &clap::Command) -> Vec<OsString> {
    let call = command.find_subcommand("call");
    let takes_value = |flag: &str| {
        let args = command
            .get_arguments()
            .chain(call.into_iter().flat_map(|c| c.get_arguments()));
        args.filter(|a| a.get_action().takes_values()).any(|a| {
            flag.strip_prefix("--")
                .is_some_and(|long| a.get_long() == Some(long))
                || flag
                    .strip_prefix('-')
                    .and_then(|s| s.chars().next())
                    .is_some_and(|short| flag.len() == 2 && a.get_short() == Some(short))
        })
    };
    let mut positions = Vec::new();
    let mut skip_next = false;
    for (i, arg) in args.iter().enumerate().skip(1) {
        let text = arg.to_string_lossy();
        if std::mem::take(&mut skip_next) || text == "--" {
            if text == "--" {
                break;
            }
            continue;
        }
        if text.starts_with('-') {
            skip_next = !text.contains('=') && takes_value(&text);
            continue;
        }
        positions.push(i);
        if positions.len() == 3 {
            break;
        }
    }
    let mut args = args;
    if let [sub, module_at, rest @ ..] = positions.as_slice() {
        if args[*sub] != "call" {
            return args;
        }
        let Some(module) = registry::module(&args[*module_at].to_string_lossy()) else {
            return args;
        };
        args[*module_at] = module.name.into();
        let Some(&action_at) = rest.first() else {
            return args;
        };
        if let Some(action) = registry::action(module, &args[action_at].to_string_lossy()) {
            args[action_at] = action.into();
            return args;
        }
        // clap hands an unknown action's words over raw, options included: move the options
        // before the module, where `call` reads them (`call --raw Meeting Alias x=1 --json`).
        let (mut options, mut kept) = (Vec::new(), Vec::new());
        let mut words = args.split_off(action_at + 1).into_iter();
        while let Some(word) = words.next() {
            let text = word.to_string_lossy().into_owned();
            if text == "--" {
                kept.push(word);
                kept.extend(words.by_ref());
            } else if text.starts_with('-') {
                let value = !text.contains('=') && takes_value(&text);
                options.push(word);
                if value {
                    options.extend(words.next());
                }
            } else {
                kept.push(word);
            }
        }
        args.extend(kept);
        args.splice(*module_at..*module_at, options);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(args: &[&str]) -> Vec<String> {
        let args = args.iter().map(OsString::from).collect();
        canonical_args(args, &command())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn call_names_are_rewritten_to_the_registry_names() {
        assert_eq!(
            canonical(&[
                "roomsctl",
                "--url",
                "call",
                "call",
                "meeting",
                "join_meeting",
                "x=1"
            ]),
            [
                "roomsctl",
                "--url",
                "call",
                "call",
                "Meeting",
                "JoinMeeting",
                "x=1"
            ]
        );
        assert_eq!(
            canonical(&["roomsctl", "call", "--no-wait", "DEVICE", "enablemic"]),
            ["roomsctl", "call", "--no-wait", "Device", "EnableMic"]
        );
        assert_eq!(
            canonical(&[
                "roomsctl", "call", "meeting", "Alias", "a=1", "--json", "--url", "u"
            ]),
            [
                "roomsctl", "call", "--json", "--url", "u", "Meeting", "Alias", "a=1"
            ]
        );
        assert_eq!(
            canonical(&["roomsctl", "query", "meeting"]),
            ["roomsctl", "query", "meeting"]
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }
}
