#!/usr/bin/env python3
"""Drive a meeting room from a script, as a control system integrator would.

roomsd speaks the Rooms control protocol: JSON-RPC 2.0 over WebSocket. Actions are acknowledged
at once and their outcome arrives later as an event, so a script subscribes first, then calls,
then waits for the event that ends the action.

    pip install -r requirements.txt
    ./room_control.py status
    ./room_control.py join 111222333 [--password PW]
    ./room_control.py layout 2
    ./room_control.py leave
    ./room_control.py watch [--count N]

A lost connection (Wi-Fi, a daemon host rebooting) is made again, and nothing is missed:
  - every call carries a `request_key`, so sending it again after a lost answer does not run
    it twice: the daemon answers the retry as it answered the first (docs/CONTINUITY.md);
  - subscriptions ask for numbered events (`since`), and are resumed after the last event
    received, so events published while away arrive first, once each, in order.
`join --drop-once` closes the connection right after sending JoinMeeting, to show the retry.

Exit status: 0 done, 1 the room refused or the action failed (the reason is printed),
3 cannot connect or no answer in time.
"""

import argparse
import asyncio
import base64
import itertools
import json
import sys
import urllib.parse
import uuid

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

STATUS = {0: "Idle", 1: "In meeting", 2: "Joining", 3: "In the waiting room", 4: "Casting"}


class Refused(Exception):
    """The room answered with a non-zero error_code."""


class AnswerLost(Exception):
    """`--drop-once`: the connection was closed before the answer came."""


CANNOT_RESUME = 18  # the daemon no longer has the events after our position
FIRST_WAIT, LONGEST_WAIT = 0.25, 5.0  # seconds between attempts to connect again


class Room:
    """A connection to roomsd that outlives dropped sockets: requests by id, events queued until
    someone waits for them, subscriptions resumed after a reconnect."""

    def __init__(self, url, password, timeout):
        self.url, self.password, self.timeout = url, password, timeout
        self.socket = None
        self.ids = itertools.count(1)
        self.events = []
        self.paths = []  # subscribed paths, to resume on a new connection
        self.position = None  # (epoch, seq) of the last event received
        self.drop_once = False  # close the socket after the next request (--drop-once)

    async def open(self):
        self.socket = await connect(self.url, subprotocols=subprotocols(self.password),
                                    open_timeout=self.timeout)
        since = self.position  # the same for every path: their replays move self.position
        for path in self.paths:
            await self._subscribe(path, since)

    async def reconnect(self, why):
        wait = FIRST_WAIT
        while True:
            print(f"connection lost ({why}); connecting again in {wait:.2f}s", file=sys.stderr)
            await asyncio.sleep(wait)
            try:
                await self.open()
                return
            except (OSError, TimeoutError, InvalidStatus, WebSocketException) as error:
                why, wait = error, min(wait * 2, LONGEST_WAIT)

    def _received(self, frame):
        if "method" not in frame:
            return
        params = frame["params"]
        if self.position and "seq" in params:
            self.position = (self.position[0], max(self.position[1], params["seq"]))
        self.events.append(params)

    async def request(self, method, params):
        request_id = next(self.ids)
        await self.socket.send(json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        if self.drop_once:
            self.drop_once = False
            await self.socket.close()
            raise AnswerLost("closed before the answer, as --drop-once asks")
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), self.timeout))
            if frame.get("id") == request_id:
                if "error" in frame:
                    raise Refused(frame["error"]["message"])
                return frame["result"]
            self._received(frame)

    async def subscribe(self, *path):
        self.paths.append(list(path))
        await self._subscribe(list(path), self.position)

    async def _subscribe(self, path, since):
        params = {"path": path, "since": 0}
        if since:
            params.update(since=since[1], epoch=since[0])
        result = await self.request("Subscribe", params)
        if since and result["error_code"] == CANNOT_RESUME:
            print(f"events published while away are lost ({result['message']})", file=sys.stderr)
            self.position = None
            result = await self.request("Subscribe", {"path": path, "since": 0})
        if result["error_code"] != 0:
            raise Refused(f"Subscribe {path}: {result['message']} ({result['error_code']})")
        if self.position is None:
            self.position = (result["data"]["epoch"], result["data"]["seq"])

    async def query(self, *path):
        result = await self.request("Query", {"path": list(path)})
        return result["data"]

    async def call(self, module, action, **params):
        """Runs an action once, however often it has to be sent."""
        request = {"action": action, "request_key": f"room-control-{uuid.uuid4()}"}
        if params:
            request["action_params"] = params
        while True:
            try:
                result = await self.request(f"Call/{module}", request)
                break
            except (ConnectionClosed, AnswerLost) as lost:
                await self.reconnect(lost)
                print(f"sending {action} again with the same request_key", file=sys.stderr)
        if result["error_code"] != 0:
            raise Refused(f"{action}: {result['message']} ({result['error_code']})")
        return result

    async def next_event(self, timeout):
        while not self.events:
            try:
                self._received(json.loads(await asyncio.wait_for(self.socket.recv(), timeout)))
            except ConnectionClosed as lost:
                await self.reconnect(lost)
        return self.events.pop(0)

    async def event(self, *names):
        """The next event among `names`; a failed one raises."""
        while True:
            event = await self.next_event(self.timeout)
            if event["sub_event"] in names:
                if event["error_code"] != 0:
                    raise Refused(
                        f"{event['sub_event']}: {event['message']} ({event['error_code']})")
                return event


async def status(room, _args):
    info = (await room.query("Meeting", "MeetingInfo"))["meeting_info"]
    line = STATUS.get(info["meeting_status"], str(info["meeting_status"]))
    if info["meeting_title"]:
        line += f": {info['meeting_title']} ({info['formatted_meeting_code']})"
    print(line)


async def join(room, args):
    await room.subscribe("Meeting")
    room.drop_once = args.drop_once
    await room.call("Meeting", "JoinMeeting", meeting_code=args.code, password=args.password)
    event = await room.event("JoinMeetingCompleted", "JoinWaitingRoom")
    if event["sub_event"] == "JoinWaitingRoom":
        print("in the waiting room: waiting for the host")
        await room.event("JoinMeetingCompleted")
    print(f"joined {event['data']['meeting_info']['meeting_title']}")


async def leave(room, _args):
    await room.subscribe("Meeting")
    await room.call("Meeting", "LeaveMeeting")
    await room.event("LeaveMeeting")
    print("left the meeting")


async def layout(room, args):
    await room.subscribe("Meeting", "LayoutSwitchChanged")
    await room.call("Meeting", "SwitchLayout", switch_type=args.switch_type)
    event = await room.event("LayoutSwitchChanged")
    print(f"layout {event['data']['layout_switch_info']['current_switch_type']}")


async def watch(room, args):
    await room.subscribe()
    print("watching every event", file=sys.stderr, flush=True)
    for _ in itertools.count() if args.count is None else range(args.count):
        print(json.dumps(await room.next_event(None)), flush=True)


def subprotocols(password):
    """roomsd takes the password as the sub-protocol `auth-<base64>`, URL-encoded."""
    if not password:
        return None
    token = urllib.parse.quote(base64.b64encode(password.encode()).decode(), safe="")
    return [f"auth-{token}"]


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:6295/")
    parser.add_argument("--room-password", default="", help="the daemon's server.password")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per answer or event")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status").set_defaults(run=status)
    join_parser = commands.add_parser("join")
    join_parser.add_argument("code")
    join_parser.add_argument("--password", default="")
    join_parser.add_argument("--drop-once", action="store_true",
                             help="close the connection right after sending JoinMeeting")
    join_parser.set_defaults(run=join)
    commands.add_parser("leave").set_defaults(run=leave)
    layout_parser = commands.add_parser("layout")
    layout_parser.add_argument("switch_type", type=int, choices=range(1, 8))
    layout_parser.set_defaults(run=layout)
    watch_parser = commands.add_parser("watch")
    watch_parser.add_argument("--count", type=int, help="stop after this many events")
    watch_parser.set_defaults(run=watch)
    args = parser.parse_args()

    try:
        room = Room(args.url, args.room_password, args.timeout)
        await room.open()
        try:
            await args.run(room, args)
        finally:
            await room.socket.close()
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, InvalidStatus, WebSocketException) as error:
        print(f"connection: {error or type(error).__name__}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)
