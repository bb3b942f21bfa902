"""First view of every page's default view on a server just started, with and without the warm-up.

```bash
flock /tmp/respine-bench.lock .venv/bin/python bench/first_view.py                  # 114 subjects
flock /tmp/respine-bench.lock .venv/bin/python bench/first_view.py --big            # and 10,000
.venv/bin/python bench/first_view.py --rounds 1 --out /tmp/fv.json                  # a quick look
```

What a reader waits for when they open a page's address on a server nobody has used yet: a new
session (a websocket, as a browser opens) asks for the page, and the time is from sending that
request to the server's ``script_finished`` (the whole view sent; drawing it is the browser's
part). Each page gets a session of its own, one after the other, in the navigation's order.

* **no warm-up**: ``RESPINE_WARMUP_SECONDS=0``. One untimed session first opens the Settings
  page, which computes almost nothing: the data are loaded and the app's modules imported, so
  the times are the pages' own work (their analyses and figures, computed for the first time).
* **warm-up**: the server as shipped (``streamlit run serve.py`` computes every page's default
  view in the background at start, :mod:`respine.ui.warmup`); the sessions start after the
  server's log says the warm-up finished, after the same untimed Settings session.
* **floor**: ``bench/floor_app.py`` (a bare Streamlit page: one plotly figure, one 20-row table),
  its first view by the same client on a server of its own after one untimed session: the ratio
  column divides by its median.

Every round starts new servers (floor, no warm-up, warm-up, in that order); the table gives the
median over rounds. The load average is recorded at the start and end: on a shared machine the
times are upper bounds. Loopback only.
"""

from __future__ import annotations

if __package__ in (None, ""):  # run as a script: make `bench` importable
    import sys
    from pathlib import Path as _Path

    sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))
    __package__ = "bench"

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from bench.common import FLOOR, REPO, Server, code_fingerprint, machine, make_twin

SERVE = REPO / "serve.py"
WARMUP_DONE = re.compile(r"Warm-up finished in ([0-9.]+) s")
TIMEOUT = 300.0


def first_view(base_url: str, page: str) -> tuple[float, bool]:
    """(seconds from the request to ``script_finished``, whether a page error was shown)."""
    host = urlsplit(base_url).netloc
    with connect(f"ws://{host}/_stcore/stream", additional_headers={"Origin": base_url},
                 open_timeout=30, max_size=2**26, subprotocols=["streamlit", "none"]) as ws:  # type: ignore[list-item]
        msg = BackMsg()
        msg.rerun_script.page_name = page
        start = time.perf_counter()
        ws.send(msg.SerializeToString())
        failed = False
        deadline = start + TIMEOUT
        while True:
            raw = ws.recv(timeout=max(0.1, deadline - time.perf_counter()))
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                what = element.WhichOneof("type")
                if what == "exception" or (what == "alert" and "Something went wrong" in element.alert.body):
                    failed = True
            elif kind == "script_finished":
                return time.perf_counter() - start, failed


def wait_for_warmup(server: Server, timeout: float = 300.0) -> float:
    """Seconds the warm-up took, from the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = WARMUP_DONE.search(server.log_text())
        if found:
            return float(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("the server's log never said the warm-up finished:\n" + server.log_text()[-2000:])


def pages_of_app() -> list[str]:
    from respine.ui.pages import PAGES

    return [p.url_path for p in PAGES]


def measure_app(data: str | None, warm: bool, pages: list[str]) -> dict[str, Any]:
    saved = os.environ.get("RESPINE_WARMUP_SECONDS")
    os.environ["RESPINE_WARMUP_SECONDS"] = "300" if warm else "0"
    try:
        server = Server(SERVE, data)
    finally:
        if saved is None:
            os.environ.pop("RESPINE_WARMUP_SECONDS", None)
        else:
            os.environ["RESPINE_WARMUP_SECONDS"] = saved
    try:
        server.wait_healthy(180)
        warmup = wait_for_warmup(server) if warm else None
        first_view(server.url, "settings")  # data loaded, modules imported (untimed)
        times: dict[str, float] = {}
        errors: list[str] = []
        for page in pages:
            seconds, failed = first_view(server.url, page)
            times[page] = seconds
            if failed:
                errors.append(page)
        return {"times": times, "errors": errors, "warmup_s": warmup}
    finally:
        server.close()


def measure_floor(views: int) -> list[float]:
    server = Server(FLOOR, None)
    try:
        server.wait_healthy(180)
        first_view(server.url, "")
        return [first_view(server.url, "")[0] for _ in range(views)]
    finally:
        server.close()


def report(res: dict[str, Any]) -> str:
    lines = [
        "# First view of each page on a server just started, with and without the warm-up",
        "",
        f"Run {res['date']} with `{res['command']}`, {res['rounds']} round(s). Method: the docstring "
        "of `bench/first_view.py` (time from a new session's request to `script_finished`, over "
        "Streamlit's websocket protocol on loopback; the floor is `bench/floor_app.py`'s first view "
        "by the same client).",
        "",
        f"Machine: {res['machine'].get('cpu', '?')}, {res['machine'].get('cores', '?')} cores; "
        f"code fingerprint `{res['fingerprint']}`. Load average (1 min) at the start "
        f"{res['load_start'][0]:.2f}, at the end {res['load_end'][0]:.2f}"
        + (" (**other work ran on the machine: the times are upper bounds**)."
           if max(res["load_start"][0], res["load_end"][0]) > 1.5 else "."),
        "",
    ]
    for name, block in res["data"].items():
        floor = statistics.median(block["floor"])
        lines += [
            f"## {name}",
            "",
            f"Floor first view: median {1000 * floor:.0f} ms over {len(block['floor'])}. Warm-up: "
            + ", ".join(f"{w:.1f} s" for w in block["warmup_s"]) + " (server log, each round).",
            "",
            "| page | no warm-up | ratio | warm-up | ratio |",
            "|---|---:|---:|---:|---:|",
        ]
        for page in block["pages"]:
            cold = statistics.median(block["cold"][page])
            warm = statistics.median(block["warm"][page])
            lines.append(f"| {page or 'overview'} | {1000 * cold:.0f} ms | {cold / floor:.1f}x | "
                         f"{1000 * warm:.0f} ms | {warm / floor:.1f}x |")
        if block["errors"]:
            lines += ["", "Pages that showed an error: " + ", ".join(sorted(set(block["errors"])))]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="new servers per variant (default 3)")
    parser.add_argument("--big", action="store_true", help="also the 10,000-subject synthetic twin")
    parser.add_argument("--pages", default="", help="comma-separated URL paths (default: every page; "
                        "'overview' for the default page)")
    parser.add_argument("--out", default=str(REPO / "bench" / "first_view.json"), metavar="JSON")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds: 1 to 10")
    pages = pages_of_app()
    if args.pages:
        wanted = ["" if p == "overview" else p for p in args.pages.split(",")]
        unknown = [p for p in wanted if p not in pages]
        if unknown:
            parser.error(f"unknown pages: {', '.join(unknown)} (known: overview, {', '.join(pages[1:])})")
        pages = wanted
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python bench/first_view.py" + (" --big" if args.big else "")
                   + ("" if args.rounds == 3 else f" --rounds {args.rounds}"),
        "rounds": args.rounds, "machine": machine(), "fingerprint": code_fingerprint(),
        "load_start": list(os.getloadavg()), "data": {},
    }
    sets: list[tuple[str, str | None]] = [("114 subjects (shipped data)", None)]
    tmp = tempfile.TemporaryDirectory(prefix="respine-first-view-")
    if args.big:
        big = str(Path(tmp.name) / "big")
        make_twin(big)
        sets.append(("10,000 subjects (synthetic twin, respine synth --n-per-arm 5000)", big))
    try:
        for name, data in sets:
            block: dict[str, Any] = {"pages": pages, "floor": [], "cold": {p: [] for p in pages},
                                     "warm": {p: [] for p in pages}, "warmup_s": [], "errors": []}
            for r in range(args.rounds):
                print(f"{name}: round {r + 1}", flush=True)
                block["floor"] += measure_floor(5)
                for variant in ("cold", "warm"):
                    out = measure_app(data, variant == "warm", pages)
                    for page, seconds in out["times"].items():
                        block[variant][page].append(seconds)
                    block["errors"] += out["errors"]
                    if out["warmup_s"] is not None:
                        block["warmup_s"].append(out["warmup_s"])
            res["data"][name] = block
    finally:
        tmp.cleanup()
    res["load_end"] = list(os.getloadavg())
    out_path = Path(args.out)
    out_path.write_text(json.dumps(res, indent=1), encoding="utf-8")
    text = report(res)
    out_path.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 1 if any(b["errors"] for b in res["data"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
