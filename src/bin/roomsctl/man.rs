//! The man page's sections beyond what clap describes.

use roomsd::manpage::Section;

pub const MAN_SECTIONS: &[Section] = &[
    Section {
        title: "ENVIRONMENT",
        roff: r#".TP
\fBROOMSD_PASSWORD\fR
The password, as \fB\-\-password\fR.
"#,
    },
    Section {
        title: "EXIT STATUS",
        roff: r#".TP
\fB0\fR
The server answered with error_code 0, and so did the outcome event of an asynchronous action
(\fBwatch\fR: stopped with Ctrl\-C).
.TP
\fB1\fR
The server answered with a non\-zero error_code, in its answer or in the outcome event.
.TP
\fB2\fR
A usage error, including parameters that the action's schema refuses (see \fB\-\-raw\fR).
.TP
\fB3\fR
A connection failure: cannot connect, the handshake was refused (HTTP 401 for a wrong or
missing password, 403 for a refused Origin, 429 after too many wrong passwords, 503 when the
server is full), no answer within \fB\-\-timeout\fR, or the connection was lost.
.TP
\fB4\fR
The action was accepted, but its outcome event did not come within \fB\-\-wait\-timeout\fR.
"#,
    },
    Section {
        title: "SIGNALS",
        roff: r#".TP
\fBSIGINT\fR
Ends \fBwatch\fR with exit status 0.
"#,
    },
    Section {
        title: "EXAMPLES",
        roff: r#".nf
roomsctl status
roomsctl actions Meeting
roomsctl call Meeting JoinMeeting meeting_code=111222333 password=
roomsctl call Meeting SwitchLayout switch_type:=2
roomsctl call Device EnableMic enable:=false
roomsctl call \-\-no\-wait Meeting LeaveMeeting
roomsctl call Meeting \-\-help
roomsctl watch Meeting
roomsctl \-\-url ws://room\-101.example:6295 \-\-password secret query Backend
roomsctl \-\-json query Members
.fi
.PP
\fBkey=value\fR sends the JSON string "value"; \fBkey:=json\fR sends raw JSON. Parameters are
checked against the action's schema before sending: an unknown name, or text where a number or
true/false belongs, is refused with what to write instead, and so is an action roomsctl does
not list. \fB\-\-raw\fR sends them unchecked.
Module, action and node names may be written in any case, with or without underscores.
.PP
\fBcall\fR waits for the event that ends an asynchronous action (JoinMeeting ends with
JoinMeetingCompleted, LeaveMeeting with LeaveMeeting, EnableMic with EnableMic…; \fBroomsctl
actions\fR lists them), prints it, and exits 1 if it carries a non\-zero error_code.
\fB\-\-no\-wait\fR returns at the acknowledgement.
"#,
    },
    Section {
        title: "FILES",
        roff: r#"Completion scripts, installed by the Debian package:
\fI/usr/share/bash\-completion/completions/roomsctl\fR,
\fI/usr/share/zsh/vendor\-completions/_roomsctl\fR,
\fI/usr/share/fish/vendor_completions.d/roomsctl.fish\fR.
The protocol and its error codes: \fI/usr/share/doc/roomsd/PROTOCOL.md\fR.
"#,
    },
    Section {
        title: "SEE ALSO",
        roff: "\\fBroomsd\\fR(8)\n",
    },
];
