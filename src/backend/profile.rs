//! The services' declarations ([`Profile`]) as tools see them: every service's meeting-code rule
//! for the schemas, and the capability table of `docs/BACKENDS.md`.

use super::SERVICES;
use crate::domain::CodeRule;

/// `meeting_code`: an integer, or a string that follows one service's rule. Which service is
/// configured is the daemon's: `Query ["Backend"]` gives its `meeting_code_pattern`, and
/// `x-meeting-code-patterns` lists every service's.
pub fn meeting_code_schema() -> schemars::Schema {
    let mut by_service = serde_json::Map::new();
    let mut rules: Vec<(CodeRule, Vec<&str>)> = Vec::new();
    for profile in SERVICES.iter().map(|s| s.profile) {
        by_service.insert(profile.service.into(), profile.code_rule.pattern().into());
        match rules
            .iter_mut()
            .find(|(rule, _)| *rule == profile.code_rule)
        {
            Some((_, services)) => services.push(profile.service),
            None => rules.push((profile.code_rule, vec![profile.service])),
        }
    }
    let mut any_of = vec![serde_json::json!({"type": "integer", "minimum": 0})];
    for (rule, services) in rules {
        any_of.push(serde_json::json!({
            "type": "string",
            "pattern": rule.pattern(),
            "description": format!("{}: {}", services.join(", "), rule.describe()),
        }));
    }
    schemars::json_schema!({
        "anyOf": any_of,
        "x-meeting-code-patterns": by_service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Capability;
    use crate::wire::ErrorCode;

    /// The capability table of `docs/BACKENDS.md`, from the declarations.
    fn capability_table() -> String {
        let profiles: Vec<_> = SERVICES.iter().map(|s| s.profile).collect();
        let mut table = String::from("| capability |");
        for profile in &profiles {
            table.push_str(&format!(" {} |", profile.service));
        }
        table.push_str("\n| --- |");
        table.push_str(&" --- |".repeat(profiles.len()));
        table.push('\n');
        for capability in Capability::ALL {
            table.push_str(&format!("| `{}` |", capability.name()));
            for profile in &profiles {
                let mark = if profile.can(capability) {
                    "yes"
                } else {
                    "—"
                };
                table.push_str(&format!(" {mark} |"));
            }
            table.push('\n');
        }
        table.push_str("| meeting code |");
        for profile in &profiles {
            let shown = match profile.code_rule {
                CodeRule::Digits => "digits, `#`, `*`",
                CodeRule::Alphanumeric => "letters and digits",
                CodeRule::Identifier => "letters, digits, `.`, `_`, `-`",
            };
            table.push_str(&format!(" {shown} |"));
        }
        table.push('\n');
        table
    }

    #[test]
    fn backends_doc_table_is_current() {
        const PATH: &str = "docs/BACKENDS.md";
        const BEGIN: &str = "<!-- capabilities: generated from backend::Profile -->\n";
        const END: &str = "<!-- end of capabilities -->";
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PATH);
        let doc = std::fs::read_to_string(file).unwrap();
        let start = doc.find(BEGIN).expect("the table's start marker") + BEGIN.len();
        let end = doc.find(END).expect("the table's end marker");
        let rendered = format!("{}{}{}", &doc[..start], capability_table(), &doc[end..]);
        crate::generated::ensure_current(
            PATH,
            &rendered,
            "UPDATE_DOCS",
            "backends_doc_table_is_current",
            "the backends' capabilities changed",
        );
    }

    /// Refusals name the service from its declaration (`Backend::profile`): it must be the
    /// name the configuration gives it (`backend.kind`, its section).
    #[test]
    fn each_declaration_names_its_service_as_the_configuration_does() {
        for service in SERVICES {
            assert_eq!(service.profile.service, service.section.name);
        }
    }

    #[test]
    fn the_simulator_can_do_everything() {
        let sim = crate::backend::sim::PROFILE;
        for capability in Capability::ALL {
            assert!(sim.can(capability), "{capability:?}");
        }
    }

    #[test]
    fn what_a_service_cannot_do_is_9_naming_it() {
        let rsc = crate::backend::rsc::PROFILE;
        let refusal = rsc.require(Capability::Dissolve).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::UNSUPPORTED);
        assert_eq!(
            refusal.message,
            "the meeting service (rsc) cannot end a meeting for everyone"
        );
    }
}
