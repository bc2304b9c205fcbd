//! Unit tests of the configuration: defaults, parsing, checks and their messages.

use super::*;
use crate::backend::kedacom::{AccountType, KedacomConfig};
use crate::backend::sim::SimConfig;

/// `text` parsed as the daemon does, with every service's section.
fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, &crate::backend::sections())
}

#[test]
fn the_printed_default_is_the_default() {
    let printed = Config::default_text(&crate::backend::sections());
    assert_eq!(parse(&printed).unwrap(), Config::default());
    for service in crate::backend::sections() {
        assert!(
            printed.contains(&format!("\n[{}]\n", service.name)),
            "{}",
            service.name
        );
    }
}

#[test]
fn empty_file_is_all_defaults() {
    assert_eq!(parse("").unwrap(), Config::default());
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    let err = parse("[server]\nlisten = \"127.0.0.1:1\"\nlisten_port = 5\n").unwrap_err();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("listen_port"), "{err}");
}

#[test]
fn a_service_section_is_as_strict_as_the_others() {
    // A misspelt key of a service's section is refused with its line, the value hidden in
    // case it is the misspelt password.
    let err = parse("[kedacom]\nbase_url = \"http://k\"\npasword = \"s3cret\"\n").unwrap_err();
    assert!(err.contains("line 3") && err.contains("pasword"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    // A misspelt section: the message lists the services' sections too.
    let err = parse("[kedacomm]\nbase_url = \"http://k\"\n").unwrap_err();
    assert!(err.contains("line 1") && err.contains("kedacomm"), "{err}");
    assert!(
        err.contains("or a meeting service's: sim, kedacom"),
        "{err}"
    );
}

#[test]
fn backend_kind_names_a_service() {
    let err = parse("[backend]\ntimeout_ms = 100\nkind = \"kedacomm\"\n").unwrap_err();
    assert!(
        err.contains("line 3") && err.contains("\"kedacomm\""),
        "{err}"
    );
    assert!(
        err.contains("a meeting service: sim, kedacom, easemob, rsc, hiar"),
        "{err}"
    );
    for service in crate::backend::sections() {
        let kind = format!("[backend]\nkind = \"{}\"\n", service.name);
        // Every service is a kind; the real ones then want their keys.
        match parse(&kind) {
            Ok(config) => assert_eq!(config.backend.kind, service.name),
            Err(err) => assert!(err.contains("needs"), "{err}"),
        }
    }
}

/// The services' sections are not sections of the configuration itself, and each is named once.
#[test]
fn service_sections_are_their_own() {
    let sections = crate::backend::sections();
    for service in &sections {
        let err = Config::parse(&format!("[{}]\n", service.name), &[]).unwrap_err();
        assert!(err.contains("unknown field"), "{}: {err}", service.name);
        let same = sections.iter().filter(|s| s.name == service.name).count();
        assert_eq!(same, 1, "{}", service.name);
    }
}

#[test]
fn bad_values_are_named_with_their_line() {
    let err = parse("[screens]\ncount = 3\n").unwrap_err();
    assert!(
        err.contains("line 2") && err.contains("count must be 1 or 2"),
        "{err}"
    );
    let err = parse("[sim]\nfailure_rate = 1.5\n").unwrap_err();
    assert!(
        err.contains("line 2") && err.contains("from 0 to 1"),
        "{err}"
    );
    let err = parse("[[sim.meetings]]\ncode = \"12x\"\n").unwrap_err();
    assert!(err.contains("line 2") && err.contains("12x"), "{err}");
    let err = parse("[server]\nlisten = \"nowhere\"\n").unwrap_err();
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn the_password_can_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let text = format!(
        "[server]\nlisten = \"0.0.0.0:6295\"\npassword_file = \"{}\"\n",
        file.display()
    );
    let read = |text: &str| {
        let mut config = parse(text)?;
        config.read_files().map(|()| config)
    };
    let parsed = parse(&text).unwrap();
    assert_eq!(parsed.server.password, "", "parsing reads no file");
    assert_eq!(read(&text).unwrap().server.password, "s3cret");

    let both = format!("{text}password = \"other\"\n");
    let err = parse(&both).unwrap_err();
    assert!(err.contains("both set"), "{err}");

    std::fs::write(&file, "\n").unwrap();
    let err = read(&text).unwrap_err();
    assert!(err.contains("is empty"), "{err}");

    let missing = text.replace("password\"", "nothing-here\"");
    let err = read(&missing).unwrap_err();
    assert!(
        err.contains("server.password_file") && err.contains("nothing-here"),
        "{err}"
    );
}

#[test]
fn open_lan_without_password_is_refused_unless_allowed() {
    let check = |text: &str| parse(text).unwrap().check();
    let err = check("[server]\nlisten = \"0.0.0.0:6295\"\n").unwrap_err();
    assert!(err.contains("server.password"), "{err}");
    check("[server]\nlisten = \"0.0.0.0:6295\"\npassword = \"pw\"\n").unwrap();
    check("[server]\nlisten = \"0.0.0.0:6295\"\nallow_unauthenticated_lan = true\n").unwrap();
    // The password may come later, from the environment or a flag: parsing alone accepts.
    let mut open = parse("[server]\nlisten = \"0.0.0.0:6295\"\n").unwrap();
    open.server.password = "from ROOMSD_PASSWORD".into();
    open.check().unwrap();
}

#[test]
fn a_real_backend_needs_its_section() {
    let err = parse("[backend]\nkind = \"kedacom\"\n").unwrap_err();
    assert!(err.contains("kedacom.base_url"), "{err}");
    let err =
        parse("[backend]\nkind = \"easemob\"\n[easemob]\nbase_url = \"http://e\"\n").unwrap_err();
    assert!(err.contains("easemob.org"), "{err}");
    let kedacom = "[backend]\nkind = \"kedacom\"\n[kedacom]\nbase_url = \"http://k\"\n\
        oauth_consumer_key = \"k\"\noauth_consumer_secret = \"s\"\nusername = \"u\"\n\
        password = \"p\"\naccount = \"1234567\"\n";
    let config = parse(kedacom).unwrap();
    assert_eq!(
        config.services.get::<KedacomConfig>().account_type,
        AccountType(5)
    );
    let err = parse(&format!("{kedacom}account_type = 3\n")).unwrap_err();
    assert!(
        err.contains("account_type") && err.contains("not 3"),
        "{err}"
    );
    let err = parse(&format!("{kedacom}poll_ms = 0\n")).unwrap_err();
    assert!(
        err.contains("poll_ms") && err.contains("at least 1"),
        "{err}"
    );
}

#[test]
fn sim_meeting_codes_are_normalized_and_unique() {
    let c = parse("[[sim.meetings]]\ncode = \"111 222-333\"\n").unwrap();
    assert_eq!(
        c.services.get::<SimConfig>().meetings[0].code.0,
        "111222333"
    );
    let err =
        parse("[[sim.meetings]]\ncode = \"1\"\n[[sim.meetings]]\ncode = \"1\"\n").unwrap_err();
    assert!(err.contains("used twice"), "{err}");
}

#[test]
fn mqtt_is_off_by_default_and_checked_when_set() {
    assert!(!Config::default().mqtt.enabled());
    let c = parse("[mqtt]\nurl = \"mqtts://broker.example\"\nroom_id = \"r1\"\n").unwrap();
    let broker = c.mqtt.url.0.unwrap();
    assert_eq!(
        (broker.tls, broker.host.as_str(), broker.port),
        (true, "broker.example", 8883)
    );
    let c = parse("[mqtt]\nurl = \"mqtt://[::1]:1884\"\nroom_id = \"r1\"\n").unwrap();
    assert_eq!(c.mqtt.url.0.unwrap().port, 1884);
    for (text, expect) in [
        ("url = \"http://b\"", "mqtt://host"),
        ("url = \"mqtt://b:0\"", "1 to 65535"),
        ("url = \"mqtt://user:pw@b\"", "username and password"),
        ("room_id = \"a/b\"", "one topic level"),
        ("room_id = \"room+\"", "one topic level"),
        ("prefix = \"rooms/#\"", "without '+' or '#'"),
        ("prefix = \"\"", "not empty"),
        ("calls = \"all\"", "\"none\", \"read\""),
        ("calls = [\"Meeting/Explode\"]", "not a Module/Action"),
        ("events_qos = 2", "0 or 1"),
        ("keepalive_secs = 1", "at least 5"),
    ] {
        let err = parse(&format!("[mqtt]\n{text}\n")).unwrap_err();
        assert!(
            err.contains("line 2") && err.contains(expect),
            "{text}: {err}"
        );
    }
    let c = parse("[mqtt]\ncalls = [\"Meeting/LeaveMeeting\"]\n").unwrap();
    assert_eq!(
        c.mqtt.calls,
        CallPolicy::Allow(vec!["Meeting/LeaveMeeting".into()])
    );
}

#[test]
fn mqtt_keys_that_go_together() {
    let url = "[mqtt]\nurl = \"mqtt://b\"\nroom_id = \"r\"\n";
    let err = parse(&format!("{url}ca_file = \"/etc/hostname\"\n")).unwrap_err();
    assert!(err.contains("not mqtts://"), "{err}");
    let err = parse(&format!("{url}cert_file = \"/etc/hostname\"\n")).unwrap_err();
    assert!(err.contains("set both or neither"), "{err}");
    let err = parse(&format!("{url}password = \"p\"\n")).unwrap_err();
    assert!(err.contains("without mqtt.username"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "broker-secret\n").unwrap();
    let with_file = format!(
        "{url}username = \"u\"\npassword_file = \"{}\"\n",
        file.display()
    );
    let mut config = parse(&with_file).unwrap();
    assert_eq!(config.mqtt.password, "", "parsing reads no file");
    config.read_files().unwrap();
    assert_eq!(config.mqtt.password, "broker-secret");
    let err = parse(&format!("{with_file}password = \"x\"\n")).unwrap_err();
    assert!(err.contains("both set"), "{err}");
}

/// Configurations written when the setting was a switch keep working; a number is a limit.
#[test]
fn members_changed_list_is_a_switch_or_a_member_count() {
    use super::ListInEvents;
    let read = |value: &str| {
        parse(&format!("[compat]\nmembers_changed_list = {value}\n"))
            .map(|c| c.compat.members_changed_list)
    };
    assert_eq!(read("true").unwrap(), ListInEvents::Always);
    assert_eq!(read("false").unwrap(), ListInEvents::Never);
    assert_eq!(read("12").unwrap(), ListInEvents::UpTo(12));
    assert_eq!(
        Config::default().compat.members_changed_list,
        ListInEvents::UpTo(100)
    );
    let err = read("-1").unwrap_err().to_string();
    assert!(
        err.contains("members_changed_list") && err.contains("line 2"),
        "{err}"
    );
    assert!(read("\"yes\"").is_err());
    assert!(ListInEvents::UpTo(100).carries(100) && !ListInEvents::UpTo(100).carries(101));
}
