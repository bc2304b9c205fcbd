//! The man pages of `roomsd` and `roomsctl`: clap_mangen renders what clap knows (name,
//! synopsis, description, options, version), and each binary adds the sections clap knows
//! nothing about (FILES, EXIT STATUS, EXAMPLES, ...) as roff text.
//!
//! Subcommands are listed on the page itself. clap_mangen's own SUBCOMMANDS section names a
//! page per subcommand (`roomsd-serve(8)`), and no such pages exist.

use std::io::{self, Write};

/// A section written by hand: its title and its body in roff.
pub struct Section {
    pub title: &'static str,
    pub roff: &'static str,
}

/// Writes the man page of `cmd` in manual `section` (`"8"`), with `extra` after the commands.
pub fn render(
    cmd: clap::Command,
    section: &str,
    manual: &str,
    extra: &[Section],
    out: &mut dyn Write,
) -> io::Result<()> {
    // clap's own `help` subcommand is for the terminal, not the page.
    let cmd = cmd.disable_help_subcommand(true);
    let man = clap_mangen::Man::new(cmd.clone())
        .section(section)
        .manual(manual);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    render_commands(cmd, out)?;
    for s in extra {
        writeln!(out, ".SH \"{}\"", s.title)?;
        out.write_all(s.roff.as_bytes())?;
    }
    man.render_version_section(out)
}

/// COMMANDS: each visible subcommand's usage and what it does.
fn render_commands(mut cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    cmd.build();
    let mut subcommands = cmd
        .get_subcommands_mut()
        .filter(|s| !s.is_hide_set())
        .peekable();
    if subcommands.peek().is_none() {
        return Ok(());
    }
    writeln!(out, ".SH COMMANDS")?;
    for sub in subcommands {
        let usage = sub.render_usage().to_string();
        let usage = usage.trim().trim_start_matches("Usage:").trim();
        writeln!(out, ".TP\n\\fB{}\\fR", escape(usage))?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", escape(&about.to_string()))?;
        }
    }
    Ok(())
}

/// Text as roff reads it literally: backslashes and hyphens escaped, and no line taken for a
/// request.
fn escape(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            if line.starts_with(['.', '\'']) {
                format!("\\&{line}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcommands_are_listed_here_not_as_pages_of_their_own() {
        let cmd = clap::Command::new("tool")
            .version("1.0")
            .subcommand(
                clap::Command::new("check-config")
                    .about("Check a file")
                    .arg(clap::Arg::new("file").required(true)),
            )
            .subcommand(clap::Command::new("man").hide(true));
        let extra = [Section {
            title: "EXIT STATUS",
            roff: "0 on success.\n",
        }];
        let mut page = Vec::new();
        render(cmd, "8", "Manual", &extra, &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(".SH COMMANDS"), "{page}");
        assert!(
            page.contains("\\fBtool check\\-config <file>\\fR"),
            "{page}"
        );
        assert!(!page.contains("tool-check-config(8)"), "{page}");
        assert!(
            !page.contains("tool man"),
            "hidden commands stay hidden: {page}"
        );
        assert!(
            page.contains(".SH \"EXIT STATUS\"\n0 on success.\n"),
            "{page}"
        );
        assert!(page.contains(".SH VERSION"), "{page}");
    }

    #[test]
    fn text_is_escaped_for_roff() {
        assert_eq!(escape("a-b \\x\n.TH"), "a\\-b \\ex\n\\&.TH");
    }
}
