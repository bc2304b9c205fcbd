//! The Kedacom requests seed 004 and the control API prescribe, exactly: the complete instant
//! create and the explicit call-in after it, escaped conference ids, paged lists of ongoing and
//! booked meetings, a booking started early, the recorder, and the login refusals' code.

use roomsd::backend::kedacom::KedacomConfig;
use roomsd::backend::kedacom::TimeZone;
use roomsd::backend::{Backend, Joined, Media, Session, StartRequest};
use roomsd::modules::meeting::StartKind;
use roomsd::modules::meeting_control::ControlAction;
use roomsd::wire::ErrorCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use super::{
    Form, FormParams, ROOM, adapter, config, expect_logins, join_request, live_conference, ok,
    refused,
};

/// The instant create request with the default `[kedacom]` settings: every parameter seed 004
/// marks required for `create_type` 1.
pub fn instant_params(name: &str) -> Value {
    json!({
        "create_type": 1, "name": name, "duration": 240, "bitrate": 2048,
        "closed_conf": 0, "safe_conf": 0, "encrypted_type": 0, "encrypted_key": "",
        "conf_type": 0, "call_mode": 2, "call_times": 3, "call_interval": 20,
        "mute": 0, "force_mute": 0, "silence": 0, "video_quality": 0, "dual_mode": 1,
        "voice_activity_detection": 0, "cascade_mode": 1, "cascade_upload": 1,
        "cascade_return": 0, "cascade_return_para": 0, "public_conf": 0, "max_join_mt": 32,
        "auto_end": 1, "preoccupy_resource": 0, "one_reforming": 0,
        "video_formats": [{"format": 4, "resolution": 13, "frame": 30, "bitrate": 2048}],
        "invite_members": [{"name": "Room 101", "account": ROOM, "account_type": 5, "bitrate": 2048, "protocol": 0}],
        "chairman": {"name": "Room 101", "account": ROOM, "account_type": 5},
    })
}

fn media() -> Media {
    Media {
        mic_on: true,
        camera_on: true,
    }
}

#[tokio::test]
async fn an_instant_start_sends_every_required_field_then_dials_the_room() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/mc/confs"))
        .and(FormParams(instant_params("Room 101的快速会议")))
        .respond_with(ok(json!({"conf_id": "7000001", "meeting_id": "m1"})))
        .expect(1)
        .mount(&server)
        .await;
    // Listed, not called yet; online once dialled.
    Mock::given(method("GET"))
        .and(path("/api/v1/vc/confs/7000001/mts"))
        .respond_with(ok(json!({"mts": [
            {"mt_id": "9", "alias": "Room 101", "e164": ROOM, "ip": "", "online": 0, "mute": 0},
        ]})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/online_mts"))
        .and(Form(vec![
            ("account_token", json!("tok-1")),
            ("params", json!({"mts": [{"mt_id": "9"}]})),
        ]))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    live_conference(&server, 1).await;
    let mut config = config(&server);
    config.room.name = "Room 101".into();
    let (kedacom, _health, _reports) = adapter(&config);
    let request = StartRequest {
        session: Session(1),
        kind: StartKind::Instant,
        media: media(),
    };
    let meeting = kedacom.start(request).await.unwrap();
    assert_eq!(meeting.code, "7000001");
    assert_eq!(meeting.room_user_id, "9");
}

#[tokio::test]
async fn conference_ids_are_percent_encoded_in_paths() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    let conf = "/api/v1/vc/confs/123%23456";
    Mock::given(method("GET"))
        .and(path(conf))
        .respond_with(ok(
            json!({"name": "Cascade", "conf_id": "123#456", "need_password": 0}),
        ))
        .expect(1..)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{conf}/mts")))
        .respond_with(ok(json!({"mts": [{"mt_id": "9"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{conf}/online_mts")))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{conf}/mts")))
        .respond_with(ok(
            json!({"mts": [{"mt_id": "9", "e164": ROOM, "online": 1}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{conf}/chairman")))
        .respond_with(ok(json!({"mt_id": "9"})))
        .mount(&server)
        .await;
    let (kedacom, _health, _reports) = adapter(&config(&server));
    let mut request = join_request();
    request.code = "123#456".into();
    let Joined::InMeeting(meeting) = kedacom.join(request).await.unwrap() else {
        panic!("not in the meeting");
    };
    assert_eq!(meeting.code, "123#456");
}

#[tokio::test]
async fn the_meeting_list_reads_every_page_of_ongoing_and_booked_meetings() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    let item = |i: usize, start: &str| {
        json!({"name": format!("M{i}"), "conf_id": format!("70{i:05}"), "meeting_id": format!("m{i}"),
            "start_time": start, "end_time": "", "creator": {"name": "Bob"}})
    };
    let page = |from: usize, to: usize| (from..to).map(|i| item(i, "")).collect::<Vec<_>>();
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/meetings"))
        .and(query_param("state", "2"))
        .and(query_param("start", "0"))
        .and(query_param("count", "20"))
        .respond_with(ok(json!({"total": 2,
            "meetings": [item(0, "2026-12-01T09:00:00"), item(1, "")]})))
        .expect(1)
        .mount(&server)
        .await;
    for (start, items) in [("0", page(1, 21)), ("20", page(21, 25))] {
        Mock::given(method("GET"))
            .and(path("/api/v1/mc/booked_confs"))
            .and(query_param("start", start))
            .and(query_param("count", "20"))
            .and(query_param("order", "0"))
            .respond_with(ok(json!({"total": 24, "booked_confs": items})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut config = config(&server);
    config.services.edit::<KedacomConfig>().time_zone =
        TimeZone::try_from("+01:00".to_owned()).unwrap();
    let (kedacom, _health, _reports) = adapter(&config);
    let list = kedacom.meeting_list().await.unwrap();
    let codes: Vec<&str> = list.iter().map(|m| m.code.as_str()).collect();
    let want: Vec<String> = (0..25).map(|i| format!("70{i:05}")).collect();
    assert_eq!(codes, want, "ongoing first, each once, every page");
    // 2026-12-01T09:00:00+01:00
    assert_eq!(list[0].begin_time, 1_796_112_000);
}

#[tokio::test]
async fn a_booking_not_begun_is_started_early_then_joined() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/vc/confs/7000001"))
        .respond_with(refused(12103, "conference not found"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/booked_confs/7000001"))
        .and(query_param("account_token", "tok-1"))
        .respond_with(ok(json!({"name": "Design review", "conf_id": "7000001",
            "meeting_id": "booked-9", "password": ""})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/mc/confs"))
        .and(FormParams(
            json!({"create_type": 5, "template_id": "booked-9"}),
        ))
        .respond_with(ok(json!({"conf_id": "7000001", "meeting_id": "booked-9"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/mts"))
        .respond_with(ok(json!({"mts": [{"mt_id": "9"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/online_mts"))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    live_conference(&server, 1).await;
    let (kedacom, _health, _reports) = adapter(&config(&server));
    let Joined::InMeeting(meeting) = kedacom.join(join_request()).await.unwrap() else {
        panic!("not in the meeting");
    };
    assert_eq!(meeting.title, "Design review");
}

#[tokio::test]
async fn start_record_posts_a_recorder() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    live_conference(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/mts"))
        .respond_with(ok(json!({"mts": [{"mt_id": "9"}]})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/online_mts"))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/recorders"))
        .and(Form(vec![
            ("account_token", json!("tok-1")),
            (
                "params",
                json!({"recorder_mode": 1, "publish_mode": 0, "dual_stream": 1, "anonymous": 0, "vrs_id": "vrs-1"}),
            ),
        ]))
        .respond_with(ok(json!({"rec_id": "1"})))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.services.edit::<KedacomConfig>().vrs_id = "vrs-1".into();
    let (kedacom, _health, _reports) = adapter(&config);
    let Joined::InMeeting(meeting) = kedacom.join(join_request()).await.unwrap() else {
        panic!("not in the meeting");
    };
    assert!(meeting.recording_allowed);
    kedacom
        .control(Session(1), ControlAction::RequestRecord)
        .await
        .unwrap();
    let start = ControlAction::StartRecord {
        mobile_address: String::new(),
    };
    kedacom.control(Session(1), start).await.unwrap();
}

#[tokio::test]
async fn a_refused_login_is_an_authentication_failure() {
    for code in [10101, 19002] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v1/system/token"))
            .respond_with(ok(json!({"account_token": "tok-1"})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v1/system/login"))
            .respond_with(refused(code, "bad user name or password"))
            .mount(&server)
            .await;
        let (kedacom, _health, _reports) = adapter(&config(&server));
        let refusal = kedacom.join(join_request()).await.unwrap_err();
        assert_eq!(refusal.code, ErrorCode::AUTH_FAILED, "{code}");
        assert!(refusal.message.contains(&code.to_string()), "{refusal:?}");
    }
}
