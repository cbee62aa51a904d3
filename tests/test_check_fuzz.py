"""``hashchat check`` on mutations of the example config and agendas: it never raises,
it exits 0 or 2 with each problem naming its file; and what it accepts, ``run`` can start."""

from __future__ import annotations

import asyncio
import copy
import json
import math
import tempfile
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alarm import ManualAlarm
from bot.app import App
from bot.cli import main
from bot.clock import ManualClock
from bot.config import load_config
from bot.platforms.local.platform import LocalPlatform

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))
AGENDA_TOML = tomllib.loads((REPO / "agendas" / "hcsmeu.toml").read_text(encoding="utf-8"))
AGENDA_MD = (REPO / "agendas" / "hcsmeufr.md").read_text(encoding="utf-8").splitlines()
TOKENS = {
    "TELEGRAM_BOT_TOKEN": "123456:example",
    "DISCORD_BOT_TOKEN": "example",
    "HASHCHAT_MASTODON_TOKEN": "example",
}
# Now, for the planning of what check accepted: a fixed moment, so runs are repeatable.
NOW = datetime.fromisoformat("2026-11-24T12:00:00+00:00")


class Raw(str):
    """TOML text written as is: nesting deeper than the writer below could recurse."""


NESTED = Raw("[" * 1500 + "]" * 1500)
NASTY: list[Any] = [
    10**20,
    -1,
    0,
    2**63,
    1e308,
    math.inf,
    "",
    " ",
    "\x00",
    "agendas/\x00hcsmeu.toml",
    "x" * 5000,
    "99999999999999h",
    "999999999d",
    "0s",
    "1s",
    NESTED,
    [[["a"]]],
    [],
    {},
    {"a": 1},
    True,
    3.5,
    date(2026, 2, 28),
    Raw("9999-12-31T23:59:00"),  # TOML local date-times, as one-offs are written
    Raw("0001-01-01T00:00:00"),
    Raw("1979-05-27T07:32:00Z"),
    "0 0 31 2 *",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=1",
    "every friday at 25:00",
    "999.1.1.1",
    "/dev/null",
    ".",
    "Europe/" + "A" * 5000,
    "\ufeff",
    "../../../etc/passwd",
    "telegram:@mygroup",
    "local:",
    ":",
    "#",
    "Q1: \x1b[31m",
]


def toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if not math.isinf(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict), value
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items())


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*prefix, i))
    return found


CONFIG_PATHS = paths(EXAMPLE)
AGENDA_PATHS = paths(AGENDA_TOML)
CHANGE = st.one_of(st.just("delete"), st.sampled_from(NASTY), st.text(max_size=20))


def mutated(data: dict[str, Any], changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for path, change in changes:
        node = out
        for part in path[:-1]:
            ok = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)
            )
            if not ok:
                break
            node = node[part]
        else:
            last = path[-1]
            if isinstance(node, dict) and change == "delete":
                node.pop(last, None)
            elif isinstance(node, dict) or (
                isinstance(node, list) and isinstance(last, int) and last < len(node)
            ):
                if change == "delete":
                    del node[last]
                else:
                    node[last] = copy.deepcopy(change)
    return out


@st.composite
def inputs(draw: st.DrawFn) -> tuple[str, str, str]:
    """The three files, each left as it is or changed in one to three places."""
    config_changes = draw(st.lists(st.tuples(st.sampled_from(CONFIG_PATHS), CHANGE), max_size=3))
    agenda_changes = draw(st.lists(st.tuples(st.sampled_from(AGENDA_PATHS), CHANGE), max_size=2))
    config = toml_document(mutated(EXAMPLE, config_changes))
    if draw(st.booleans()):
        config = "\ufeff" + config
    agenda = toml_document(mutated(AGENDA_TOML, agenda_changes))
    markdown = list(AGENDA_MD)
    for _ in range(draw(st.integers(0, 2))):
        line = draw(st.integers(0, len(markdown) - 1))
        text = draw(st.sampled_from([v for v in NASTY if isinstance(v, str)]))
        markdown[line] = draw(st.sampled_from([text, f"## Q9 (à {text}) {text}", "## " + text]))
    return config, agenda, "\n".join(markdown)


async def start_and_stop(path: Path) -> None:
    """What ``run`` does first, on the local platform alone: store, plans, alarms."""
    config = load_config(path)
    clock = ManualClock(NOW)
    app = App(
        config,
        platforms={"local": LocalPlatform(clock)},
        clock=clock,
        alarm=ManualAlarm(clock),
        serve_web=False,
    )
    await app.start()
    await app.stop()


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(inputs())
def test_check_never_raises_and_what_it_accepts_can_run(files: tuple[str, str, str]) -> None:
    config, agenda, markdown = files
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "agendas").mkdir()
        (root / "agendas" / "hcsmeu.toml").write_text(agenda, encoding="utf-8")
        (root / "agendas" / "hcsmeufr.md").write_text(markdown, encoding="utf-8")
        path = root / "hashchat.toml"
        path.write_text(config, encoding="utf-8")
        result = CliRunner().invoke(main, ["check", "--config", str(path)], env=TOKENS)
        assert result.exit_code in (0, 2), (result.output, result.exc_info)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        if result.exit_code == 2:
            head, *lines = result.stderr.rstrip("\n").split("\n")
            assert head == f"{len(lines)} problem(s) found:"
            assert all(line.startswith("  /") for line in lines), lines  # the file, in full
            assert not any("Value error" in line for line in lines)
            return
        checked = load_config(path)
        for community in checked.communities:
            if community.retention is not None:
                assert NOW - community.retention < NOW
        asyncio.run(start_and_stop(path))
