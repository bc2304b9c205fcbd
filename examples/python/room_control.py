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
    ./room_control.py watch

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

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

STATUS = {0: "Idle", 1: "In meeting", 2: "Joining", 3: "In the waiting room", 4: "Casting"}


class Refused(Exception):
    """The room answered with a non-zero error_code."""


class Room:
    """One connection to roomsd: requests by id, events queued until someone waits for them."""

    def __init__(self, socket, timeout):
        self.socket = socket
        self.timeout = timeout
        self.ids = itertools.count(1)
        self.events = []

    async def request(self, method, params):
        request_id = next(self.ids)
        await self.socket.send(json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), self.timeout))
            if frame.get("id") == request_id:
                if "error" in frame:
                    raise Refused(frame["error"]["message"])
                return frame["result"]
            if "method" in frame:
                self.events.append(frame["params"])

    async def query(self, *path):
        result = await self.request("Query", {"path": list(path)})
        return result["data"]

    async def call(self, module, action, **params):
        request = {"action": action}
        if params:
            request["action_params"] = params
        result = await self.request(f"Call/{module}", request)
        if result["error_code"] != 0:
            raise Refused(f"{action}: {result['message']} ({result['error_code']})")
        return result

    async def event(self, *names):
        """The next event among `names`; a failed one raises."""
        while True:
            while self.events:
                event = self.events.pop(0)
                if event["sub_event"] in names:
                    if event["error_code"] != 0:
                        raise Refused(
                            f"{event['sub_event']}: {event['message']} ({event['error_code']})")
                    return event
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), self.timeout))
            if "method" in frame:
                self.events.append(frame["params"])


async def status(room, _args):
    info = (await room.query("Meeting", "MeetingInfo"))["meeting_info"]
    line = STATUS.get(info["meeting_status"], str(info["meeting_status"]))
    if info["meeting_title"]:
        line += f": {info['meeting_title']} ({info['formatted_meeting_code']})"
    print(line)


async def join(room, args):
    await room.request("Subscribe", {"path": ["Meeting"]})
    await room.call("Meeting", "JoinMeeting", meeting_code=args.code, password=args.password)
    event = await room.event("JoinMeetingCompleted", "JoinWaitingRoom")
    if event["sub_event"] == "JoinWaitingRoom":
        print("in the waiting room: waiting for the host")
        await room.event("JoinMeetingCompleted")
    print(f"joined {event['data']['meeting_info']['meeting_title']}")


async def leave(room, _args):
    await room.request("Subscribe", {"path": ["Meeting"]})
    await room.call("Meeting", "LeaveMeeting")
    await room.event("LeaveMeeting")
    print("left the meeting")


async def layout(room, args):
    await room.request("Subscribe", {"path": ["Meeting", "LayoutSwitchChanged"]})
    await room.call("Meeting", "SwitchLayout", switch_type=args.switch_type)
    event = await room.event("LayoutSwitchChanged")
    print(f"layout {event['data']['layout_switch_info']['current_switch_type']}")


async def watch(room, _args):
    await room.request("Subscribe", {"path": []})
    room.timeout = None
    while True:
        frame = json.loads(await room.socket.recv())
        if "method" in frame:
            print(json.dumps(frame["params"]), flush=True)


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
    join_parser.set_defaults(run=join)
    commands.add_parser("leave").set_defaults(run=leave)
    layout_parser = commands.add_parser("layout")
    layout_parser.add_argument("switch_type", type=int, choices=range(1, 8))
    layout_parser.set_defaults(run=layout)
    commands.add_parser("watch").set_defaults(run=watch)
    args = parser.parse_args()

    try:
        async with connect(args.url, subprotocols=subprotocols(args.room_password),
                           open_timeout=args.timeout) as socket:
            await args.run(Room(socket, args.timeout), args)
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
