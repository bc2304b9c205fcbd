//! The meeting services' own sections: `[sim]`, `[kedacom]` and the others. The configuration
//! names no service: each adapter declares its section (a [`Section`]) beside its code, and
//! [`Config::parse`](super::Config::parse) reads the sections of the services it is given
//! ([`SectionSpec`]; the daemon gives every service it has). [`Sections`] keeps them, each as
//! its adapter's type.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};
use serde::{Deserialize, Deserializer};

/// A meeting service's configuration section, declared with its adapter.
pub trait Section:
    DeserializeOwned + Default + Clone + PartialEq + Debug + Send + Sync + 'static
{
    /// The section's name, which is also the service's name in `backend.kind`.
    const NAME: &'static str;
    /// The section as `roomsd print-default-config` shows it: its keys at their defaults, with
    /// a comment each.
    const DEFAULTS: &'static str;

    /// The keys the service cannot work without, with their values: each must be set when it
    /// is `backend.kind`.
    fn required(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    /// Rules a value-by-value check cannot see, checked whether the service is chosen or not.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Names the first of `keys` of `section` that is empty.
fn require(section: &str, keys: &[(&'static str, &str)]) -> Result<(), String> {
    match keys.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((key, _)) => Err(format!(
            "backend.kind = \"{section}\" needs {section}.{key}: see `roomsd print-default-config`"
        )),
        None => Ok(()),
    }
}

/// How [`Config::parse`](super::Config::parse) reads one service's section.
#[derive(Clone, Copy)]
pub struct SectionSpec {
    pub name: &'static str,
    pub defaults: &'static str,
    /// Reads the section from a table holding it alone (so that errors name
    /// `section.key`); the default when the table is empty.
    read: fn(toml::de::Deserializer<'_>) -> Result<Box<dyn AnySection>, toml::de::Error>,
    /// Checks the section in `Sections` (its default if absent) as the chosen service's.
    check_chosen: fn(&Sections) -> Result<(), String>,
}

impl SectionSpec {
    /// The names of `services`, for messages: `sim, kedacom, ...`.
    pub fn names(services: &[SectionSpec]) -> String {
        let names: Vec<&str> = services.iter().map(|s| s.name).collect();
        names.join(", ")
    }

    pub const fn of<S: Section>() -> Self {
        Self {
            name: S::NAME,
            defaults: S::DEFAULTS,
            read: read::<S>,
            check_chosen: |sections| AnySection::check(&sections.get::<S>(), true),
        }
    }

    /// Checks this service's section in `sections` as the chosen service's: what it cannot
    /// work without is set, and its own rules hold.
    pub fn check_chosen(&self, sections: &Sections) -> Result<(), String> {
        (self.check_chosen)(sections)
    }
}

fn read<S: Section>(
    table: toml::de::Deserializer<'_>,
) -> Result<Box<dyn AnySection>, toml::de::Error> {
    let mut only = BTreeMap::<String, S>::deserialize(table)?;
    Ok(Box::new(only.remove(S::NAME).unwrap_or_default()))
}

/// The services' sections, each as its adapter's type. A section the file leaves out is its
/// default.
#[derive(Clone, Default, Debug)]
pub struct Sections(BTreeMap<&'static str, Box<dyn AnySection>>);

impl Sections {
    /// Service `S`'s section.
    pub fn get<S: Section>(&self) -> S {
        self.0
            .get(S::NAME)
            .and_then(|section| section.as_any().downcast_ref::<S>())
            .cloned()
            .unwrap_or_default()
    }

    /// Service `S`'s section, to change in place (a configuration made in code).
    pub fn edit<S: Section>(&mut self) -> &mut S {
        self.0
            .entry(S::NAME)
            .or_insert_with(|| Box::new(S::default()))
            .as_any_mut()
            .downcast_mut()
            .expect("a section name belongs to one type")
    }

    /// Cuts the sections of `services` out of `file`, leaving the configuration's own, and
    /// reads each from a table of its own: errors still say `section.key` and point into the
    /// text.
    pub(super) fn cut_from(
        file: &mut toml::Spanned<toml::de::DeTable<'_>>,
        services: &[SectionSpec],
    ) -> Result<Self, toml::de::Error> {
        let whole = file.span();
        let mut sections = Self::default();
        for service in services {
            let mut own = toml::de::DeTable::new();
            own.extend(file.get_mut().remove_entry(service.name));
            let own = toml::Spanned::new(whole.clone(), own);
            sections.0.insert(service.name, (service.read)(own.into())?);
        }
        Ok(sections)
    }

    /// Every section's own rules, `chosen` naming `backend.kind`.
    pub(super) fn check(&self, chosen: &str) -> Result<(), String> {
        self.0
            .iter()
            .try_for_each(|(name, section)| section.check(*name == chosen))
    }
}

/// A section left out equals one written with every key at its default.
impl PartialEq for Sections {
    fn eq(&self, other: &Self) -> bool {
        let matches = |a: &Self, b: &Self| {
            a.0.iter().all(|(name, section)| match b.0.get(name) {
                Some(theirs) => section.same(theirs.as_ref()),
                None => section.is_default(),
            })
        };
        matches(self, other) && matches(other, self)
    }
}

/// What [`Sections`] needs of a section without knowing its type.
pub(super) trait AnySection: Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn boxed_clone(&self) -> Box<dyn AnySection>;
    fn same(&self, other: &dyn AnySection) -> bool;
    fn is_default(&self) -> bool;
    fn check(&self, chosen: bool) -> Result<(), String>;
}

impl<S: Section> AnySection for S {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn boxed_clone(&self) -> Box<dyn AnySection> {
        Box::new(self.clone())
    }
    fn same(&self, other: &dyn AnySection) -> bool {
        other.as_any().downcast_ref::<S>() == Some(self)
    }
    fn is_default(&self) -> bool {
        *self == S::default()
    }
    fn check(&self, chosen: bool) -> Result<(), String> {
        if chosen {
            require(S::NAME, &self.required())?;
        }
        Section::check(self)
    }
}

impl Clone for Box<dyn AnySection> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

/// Checks that `backend.kind`, if the file sets it, names one of `services`. Read from the
/// value as written, so that the error points at it like any other.
pub(super) fn check_kind(
    file: &toml::Spanned<toml::de::DeTable<'_>>,
    services: &[SectionSpec],
) -> Result<(), toml::de::Error> {
    let kind = file
        .get_ref()
        .get("backend")
        .and_then(|backend| match backend.get_ref() {
            toml::de::DeValue::Table(table) => table.get("kind"),
            _ => None,
        });
    match kind {
        Some(kind) => {
            ServiceName(services).deserialize(toml::de::ValueDeserializer::from(kind.clone()))
        }
        None => Ok(()),
    }
}

/// A string that names one of the services.
struct ServiceName<'a>(&'a [SectionSpec]);

impl<'de> DeserializeSeed<'de> for ServiceName<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, value: D) -> Result<(), D::Error> {
        value.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for ServiceName<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a meeting service: {}", SectionSpec::names(self.0))
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<(), E> {
        if self.0.iter().any(|s| s.name == name) {
            Ok(())
        } else {
            Err(E::invalid_value(de::Unexpected::Str(name), &self))
        }
    }
}
