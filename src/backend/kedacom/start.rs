//! Creating conferences (`POST /api/v1/mc/confs`, seed 004): an instant one (`create_type` 1,
//! with every field the document marks required), the room's virtual meeting room (4, "pmi"),
//! or a booked meeting ahead of its time (5, so that joining a booking that has not begun
//! works). The platform is not trusted to call the room in by itself (a virtual meeting room's
//! call mode defaults to manual): after creating, the adapter dials its terminal
//! (`online_mts`) and waits until it is online.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::Inner;
use super::api::{Verb, conf_path, segment};
use super::model::{self, Booked, Conference, Created, NAME_EXISTS, Terminals, VirtualRooms};
use crate::backend::{BackendResult, MeetingDetails, Session, StartRequest};
use crate::domain::StartKind;
use crate::wire::{ErrorCode, Refusal};

/// `call_mode` 2: the platform calls the invited terminals itself, `call_times` times.
const CALL_AUTOMATICALLY: u8 = 2;
/// The longest conference name the platform takes, in bytes.
const NAME_BYTES: usize = 64;
/// Characters a conference name may not hold (seed 004, `name`), with the typographic quotes
/// the document's list renders as `"`.
const FORBIDDEN: &[char] = &[
    '%', '&', '*', '^', '~', '\'', '"', '?', '/', '\\', '<', '>', '|', '`', '$', '\u{201c}',
    '\u{201d}', '\u{2018}', '\u{2019}',
];
/// Characters a conference name may not begin or end with.
const NOT_AT_ENDS: &[char] = &['_', '-', '.', '@'];
/// How many names an instant start tries when the platform says the name is taken.
const NAME_TRIES: usize = 3;

impl Inner {
    pub(super) async fn start(
        self: Arc<Self>,
        request: StartRequest,
    ) -> BackendResult<MeetingDetails> {
        let template = match request.kind {
            StartKind::Instant => None,
            StartKind::Pmi => Some(self.virtual_room().await?),
        };
        // From here on the platform may create the conference, even if its answer never
        // arrives.
        self.placing(request.session, None, None);
        let created = match &template {
            None => self.create_instant().await?,
            Some(id) => {
                let params = json!({
                    "create_type": 4,
                    "template_id": id,
                    "invite_members": [self.call_target()],
                    "chairman": self.terminal(),
                });
                self.create(params).await?
            }
        };
        self.placing(request.session, Some(&created.conf_id), None);
        let (mt_id, terminals) = self
            .call_in(request.session, &created.conf_id, template.is_none())
            .await?;
        let conference: Conference = self.api.get(&conf_path(&created.conf_id), &[]).await?;
        let mut meeting = self
            .details(&created.conf_id, &conference, &terminals, &mt_id)
            .await;
        if meeting.meeting_id.is_empty() {
            meeting.meeting_id = created.meeting_id;
        }
        meeting.room_is_creator = true;
        self.enter(request.session, &meeting);
        Ok(meeting)
    }

    async fn create(&self, params: Value) -> BackendResult<Created> {
        self.api
            .write(Verb::Post, "/api/v1/mc/confs", Some(params))
            .await
    }

    /// An instant conference under the room's name; a name the platform says is taken (a
    /// conference of the room's still running) gets a number.
    async fn create_instant(&self) -> BackendResult<Created> {
        let name = conference_name(&format!("{}的快速会议", self.room_name));
        let mut tries = 1;
        loop {
            let name = numbered(&name, tries);
            match self.create(self.instant_params(&name)).await {
                Err(refusal)
                    if tries < NAME_TRIES
                        && model::platform_code(&refusal) == Some(NAME_EXISTS) =>
                {
                    tries += 1;
                }
                created => return created,
            }
        }
    }

    /// Every parameter seed 004 marks required for `create_type` 1, with what a meeting room
    /// wants, or the operator's `[kedacom]` settings.
    pub(super) fn instant_params(&self, name: &str) -> Value {
        let c = &self.config;
        json!({
            "create_type": 1,
            "name": name,
            "duration": c.duration_minutes,
            "bitrate": c.bitrate,
            "closed_conf": 0,
            "safe_conf": 0,
            "encrypted_type": 0,
            "encrypted_key": "",
            "conf_type": c.conf_type.0,
            "call_mode": CALL_AUTOMATICALLY,
            "call_times": c.call_times,
            "call_interval": c.call_interval_secs,
            "mute": 0,
            "force_mute": 0,
            "silence": 0,
            "video_quality": 0,
            "dual_mode": 1,
            "voice_activity_detection": 0,
            "cascade_mode": 1,
            "cascade_upload": 1,
            "cascade_return": 0,
            "cascade_return_para": 0,
            "public_conf": 0,
            "max_join_mt": c.max_join_mt.0,
            "auto_end": 1,
            "preoccupy_resource": 0,
            "one_reforming": 0,
            "video_formats": [{"format": 4, "resolution": 13, "frame": 30, "bitrate": c.bitrate}],
            "invite_members": [self.call_target()],
            "chairman": self.terminal(),
        })
    }

    /// Gets the room's terminal, invited into `conf_id` when it was created, called in: finds
    /// it among the conference's terminals (the platform may list it a moment late), dials it
    /// and waits until it is online. A refused dial fails the start unless the platform calls
    /// the terminal itself (`auto_call`). Bounded by the daemon's `timeout_ms`.
    async fn call_in(
        &self,
        session: Session,
        conf_id: &str,
        auto_call: bool,
    ) -> BackendResult<(String, Terminals)> {
        let every = self.poll_every().min(Duration::from_secs(1));
        let (mt_id, online) = loop {
            let terminals = self.terminals(conf_id).await?;
            if let Some(own) = terminals.mts.iter().find(|t| self.is_own(t)) {
                break (own.mt_id.clone(), own.online == 1);
            }
            tokio::time::sleep(every).await;
        };
        self.placing(session, Some(conf_id), Some(&mt_id));
        if !online {
            match self.dial(conf_id, &mt_id, Verb::Post).await {
                Ok(()) => {}
                Err(refusal) if auto_call => {
                    tracing::warn!(%refusal, %conf_id, "kedacom: dialling the room's terminal was refused; the platform calls it itself");
                }
                Err(refusal) => return Err(refusal),
            }
        }
        self.wait_until_online(conf_id, Some(&mt_id)).await
    }

    /// The virtual meeting room "pmi" starts: the configured one, or the first reserved for
    /// the room's terminal.
    async fn virtual_room(&self) -> BackendResult<String> {
        if !self.config.virtual_meeting_room.is_empty() {
            return Ok(self.config.virtual_meeting_room.clone());
        }
        let rooms: VirtualRooms = self
            .api
            .get(
                "/api/v1/mc/virtual_meeting_rooms",
                &[("start", "0"), ("count", "0")],
            )
            .await?;
        rooms
            .virtual_meeting_rooms
            .into_iter()
            .find(|room| {
                room.exclusive_users
                    .iter()
                    .any(|u| u.account == self.config.account)
            })
            .map(|room| room.id)
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::CANNOT_JOIN_PERSONAL_MEETING,
                    format!(
                        "kedacom: no virtual meeting room is reserved for terminal {}; \
                         set kedacom.virtual_meeting_room",
                        self.config.account
                    ),
                )
            })
    }

    /// `conf_id` is no live conference (`missing` says so): if it is a booked meeting, start it
    /// now (`create_type` 5) and give the live conference; else `missing`.
    pub(super) async fn start_booked(
        &self,
        session: Session,
        conf_id: &str,
        password: &str,
        missing: Refusal,
    ) -> BackendResult<(String, Conference)> {
        let path = format!("/api/v1/mc/booked_confs/{}", segment(conf_id));
        let Ok(booked) = self.api.get::<Booked>(&path, &[]).await else {
            return Err(missing);
        };
        if !booked.password.is_empty() && booked.password != password {
            return Err(if password.is_empty() {
                Refusal::new(
                    ErrorCode::PASSWORD_REQUIRED,
                    format!("kedacom: booked meeting {conf_id} needs a password"),
                )
            } else {
                Refusal::new(
                    ErrorCode::WRONG_PASSWORD,
                    format!("kedacom: wrong password for booked meeting {conf_id}"),
                )
            });
        }
        tracing::info!(%conf_id, "kedacom: starting a booked meeting ahead of its time to join it");
        self.placing(session, Some(conf_id), None);
        let params = json!({"create_type": 5, "template_id": booked.meeting_id});
        let created = self.create(params).await?;
        let conf_id = if created.conf_id.is_empty() {
            conf_id.to_owned()
        } else {
            created.conf_id
        };
        self.placing(session, Some(&conf_id), None);
        let conference = self.api.get(&conf_path(&conf_id), &[]).await?;
        Ok((conf_id, conference))
    }
}

/// `name` as the platform takes a conference name: without the characters it forbids, not
/// beginning or ending with `_ - . @`, at most 64 bytes.
pub(super) fn conference_name(name: &str) -> String {
    let kept: String = name.chars().filter(|c| !FORBIDDEN.contains(c)).collect();
    let mut name = truncate(kept.trim(), NAME_BYTES).to_owned();
    loop {
        let trimmed = name.trim().trim_matches(NOT_AT_ENDS).trim();
        if trimmed.len() == name.len() {
            break;
        }
        name = trimmed.to_owned();
    }
    if name.is_empty() {
        "快速会议".to_owned()
    } else {
        name
    }
}

/// The `n`th name to try: `name` itself first, then `name_2`, `name_3`, within 64 bytes.
fn numbered(name: &str, n: usize) -> String {
    if n <= 1 {
        return name.to_owned();
    }
    let suffix = format!("_{n}");
    format!("{}{suffix}", truncate(name, NAME_BYTES - suffix.len()))
}

/// The longest prefix of `s` of at most `bytes` bytes that ends on a character boundary.
fn truncate(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conference_names_keep_to_the_platform_rules() {
        assert_eq!(conference_name("Room 101的快速会议"), "Room 101的快速会议");
        assert_eq!(
            conference_name("R&D <lab> \"A\"/B的快速会议"),
            "RD lab AB的快速会议"
        );
        assert_eq!(conference_name("_-.@Lobby@.-_"), "Lobby");
        assert_eq!(conference_name("%%%"), "快速会议");
        let long = conference_name(&format!("{}的快速会议", "会".repeat(30)));
        assert!(long.len() <= 64 && long.starts_with('会'), "{long}");
        assert_eq!(numbered("Room", 1), "Room");
        assert_eq!(numbered("Room", 2), "Room_2");
        assert!(numbered(&"会".repeat(21), 3).len() <= 64);
    }
}
