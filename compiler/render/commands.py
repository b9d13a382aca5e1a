"""The render, cost, status and cancel subcommands: argparse wiring and thin handlers over render.planning,
render.execute, render.results and render.cancel."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from compiler.console import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, add_model_option, collect, print_diagnostics
from compiler.project import REGION_NAMES, find_project
from compiler.render.cost import check_budget
from compiler.report import json_safe, visible  # text from scenes, journals and the service, shown as text

# Spelled out rather than imported from typing: `scenec check` runs on every save and does not import
# typing (records.py); checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:  # the render machinery loads when a command runs, not when it is registered
    from typing import TextIO

    from compiler.render.journal import Render
    from compiler.render.planning import Plan
    from compiler.render.results import SceneResult

__all__ = ["register", "COMMANDS"]

COMMANDS = ("render", "cost", "status", "cancel")
KEY_VARIABLE = "DASHSCOPE_API_KEY"
# The render journal cannot be used (corrupt, truncated, a folder, locked, disk full): nothing was sent.
EXIT_JOURNAL = 3
REGION_CHOICES = REGION_NAMES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the rendering subcommands; each sets `handler`, and nothing heavy is imported until one runs."""
    _render_parser(subparsers)
    _cost_parser(subparsers)
    _status_parser(subparsers)
    _cancel_parser(subparsers)


def _endpoint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", metavar="URL",
                        help="API base URL (default: $DASHSCOPE_HTTP_BASE_URL, else the region's)")
    parser.add_argument("--region", choices=REGION_CHOICES, metavar="REGION",
                        help=f"{', '.join(REGION_CHOICES)}: the prices, and the endpoint unless --base-url or "
                             "$DASHSCOPE_HTTP_BASE_URL is set (default: $SCENEC_REGION, else the project's "
                             "configured region, else beijing)")
    parser.add_argument("--workspace", metavar="ID",
                        help="a Model Studio workspace id: requests go to the region's workspace host and carry it "
                             "(default: $SCENEC_WORKSPACE, $DASHSCOPE_WORKSPACE, $DASHSCOPE_WORKSPACE_ID, else the "
                             "project's configured workspace, else none: the region's legacy host)")


def _render_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    render = subparsers.add_parser(
        "render", help="render scenes through the DashScope API (journaled, resumable)",
        description="Submit, poll and download videos. The key comes from $DASHSCOPE_API_KEY. Every submission is "
                    "journaled in <project>/.scenec/journal.sqlite3: running the same command again resumes "
                    "interrupted renders and never pays twice for an unchanged scene.")
    render.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="a .scene file or a folder of them")
    render.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="where the video goes (one scene only; default <project>/renders/<scene>.mp4)")
    render.add_argument("-j", "--jobs", type=_positive_int, default=1, metavar="N", help="scenes rendered at once (1)")
    render.add_argument("--force", action="store_true",
                        help="render again scenes already rendered, and submit despite an unknown earlier submit")
    render.add_argument("--timeout", type=_positive_float, default=1800.0, metavar="SECONDS",
                        help="stop polling a scene after this long (1800); a rerun resumes it")
    render.add_argument("--budget", type=_amount, metavar="AMOUNT",
                        help="refuse the batch (submit nothing) when its estimate exceeds AMOUNT (CNY)")
    render.add_argument("--json", action="store_true", help="one JSON object per scene result on standard output")
    render.add_argument("--adopt", metavar="TASK_ID",
                        help="one scene whose submit is unknown: follow this task (from `scenec status` or the "
                             "DashScope console) instead of submitting; nothing is paid again")
    render.add_argument("--no-url-check", action="store_true",
                        help="do not check that remote media URLs answer before submitting")
    render.add_argument("-v", "--verbose", action="store_true", help="log retries and throttling to standard error")
    add_model_option(render)
    _endpoint_options(render)
    render.set_defaults(handler=run_render)


def _cost_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cost = subparsers.add_parser(
        "cost", help="estimate what rendering scenes would cost", description="Billable seconds by the rule of each "
        "scene's compile target (reference video seconds, capped, plus output seconds) and their price "
        "(docs/rendering.md, Costs).")
    cost.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="a .scene file or a folder of them")
    cost.add_argument("--budget", type=_amount, metavar="AMOUNT", help="exit 1 when the total exceeds AMOUNT (CNY)")
    cost.add_argument("--json", action="store_true", help="one JSON object per scene")
    add_model_option(cost)
    cost.add_argument("--compare", action="store_true",
                      help="price each scene on every compile target that can take it (one line per target)")
    _endpoint_options(cost)
    cost.set_defaults(handler=run_cost)


def _status_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = subparsers.add_parser("status", help="list journaled renders and their state",
                                   description="Read the render journal of a project (no API call).")
    status.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="a project folder or a .scene file (default: the current folder)")
    status.add_argument("--all", action="store_true", help="every submission, not only the newest per scene")
    status.add_argument("--json", action="store_true", help="one JSON object per render")
    status.set_defaults(handler=run_status)


def _cancel_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cancel = subparsers.add_parser("cancel", help="cancel a scene's task while it is still PENDING",
                                   description="Cancel the journaled in-flight task of a scene. The API cancels "
                                               "only PENDING tasks; a RUNNING one finishes (and bills).")
    cancel.add_argument("file", type=Path, metavar="FILE")
    _endpoint_options(cancel)
    cancel.set_defaults(handler=run_cancel)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _amount(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError("must be a number of at least 0")
    return value


# --- shared ------------------------------------------------------------------------------------


def _api_key(command: str) -> str | None:
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        print(f"scenec {command}: no API key: set {KEY_VARIABLE} (scenec reads it from the environment only and never "
              "writes it anywhere)", file=sys.stderr)
    return key or None


def _base_url(command: str, args: argparse.Namespace, scenes: Sequence[Path] = ()) -> str | None:
    """The endpoint; the region chosen by config.chosen_region (--region, SCENEC_REGION, the scenes' projects)
    becomes args.region, which prices the renders, also at an endpoint --base-url or DASHSCOPE_HTTP_BASE_URL
    names (a proxy, a test server).  When that endpoint is a known region's own, only --region prices it
    otherwise: a region from the environment or the configuration does not make a budget check use another
    region's prices.  The workspace chosen by config.chosen_workspace becomes args.workspace (the client's
    header) and picks the region's workspace host.  None after saying why the endpoint cannot be had."""
    from compiler.config import RegionConflict, WorkspaceConflict, chosen_region, chosen_workspace
    from compiler.regions import workspace_problem
    from compiler.render.client import resolve_base_url
    from compiler.render.results import price_region

    projects = [find_project(scene) for scene in scenes]
    try:
        region, origin = chosen_region(args.region, os.environ, projects)
        if origin != "default":  # the built-in default prices only its own endpoint (price_region)
            args.region = region
        workspace = chosen_workspace(args.workspace, os.environ, projects)
        args.workspace = workspace[0] if workspace else None
        if workspace and (problem := workspace_problem(workspace[0])):
            raise ValueError(f"{problem} (from {workspace[1]})")
        base_url = resolve_base_url(args.base_url, args.region, os.environ, args.workspace)
        own = price_region(None, base_url)  # the region whose endpoint this is, if it is one
        if origin not in ("default", "command line") and own is not None:
            args.region = own
        return base_url
    except (RegionConflict, WorkspaceConflict) as conflict:
        print(f"scenec {command}: {visible(str(conflict))}; nothing was sent", file=sys.stderr)
        return None
    except ValueError as error:
        print(f"scenec {command}: {visible(str(error))}", file=sys.stderr)
        return None


def _scene_files(command: str, paths: list[Path]) -> list[Path] | None:
    files, missing = collect(paths)
    if missing:
        print(f"scenec {command}: no such file or folder: {visible(', '.join(missing))}", file=sys.stderr)
        return None
    if not files:
        print(f"scenec {command}: no .scene files found", file=sys.stderr)
        return None
    return files


def _quiet_logs(verbose: bool) -> None:
    import logging

    logger = logging.getLogger("scenec.render")
    for old in [h for h in logger.handlers if getattr(h, "_scenec", False)]:
        logger.removeHandler(old)
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("scenec: %(message)s"))
        logger.setLevel(logging.INFO)
    else:
        # Without a handler Python's last resort prints warnings over the progress display.
        handler = logging.NullHandler()
    handler._scenec = True  # type: ignore[attr-defined]  # ours to replace on the next call (tests call main often)
    logger.addHandler(handler)


# --- handlers ----------------------------------------------------------------------------------


def run_render(args: argparse.Namespace) -> int:
    key = _api_key("render")
    files = _scene_files("render", args.paths) if key else None
    base_url = _base_url("render", args, files) if files is not None else None
    if not key or not base_url or files is None:
        return EXIT_USAGE
    if args.output and len(files) != 1:
        print("scenec render: -o/--output takes one scene; a batch writes <project>/renders/", file=sys.stderr)
        return EXIT_USAGE
    problem = _render_output_problem(args.output) if args.output else None
    if problem:
        print(f"scenec render: -o {visible(str(args.output))}: {problem}; nothing was submitted", file=sys.stderr)
        return EXIT_USAGE
    if args.adopt is not None and (len(files) != 1 or args.force or not args.adopt.strip()):
        print("scenec render: --adopt takes one scene and a task id, without --force", file=sys.stderr)
        return EXIT_USAGE
    _quiet_logs(args.verbose)
    from compiler.render.execute import ProjectBusy, project_locks, render
    from compiler.render.journal import JournalError
    from compiler.render.planning import RenderOptions, plan
    from compiler.render.progress import make_display

    options = RenderOptions(base_url=base_url, region=args.region, model=args.model, force=args.force, jobs=args.jobs,
                                   timeout=args.timeout, output=args.output.absolute() if args.output else None,
                                   check_urls=not args.no_url_check,
                                   adopt=args.adopt.strip() if args.adopt else None, workspace=args.workspace)
    try:
        with project_locks(find_project(f).root for f in files):
            plans = plan(files, options, secrets=(key,))
            _print_invalid(plans)
            if not _within_budget(plans, args.budget, sys.stderr if args.json else sys.stdout):
                return EXIT_ERRORS
            display = make_display("json" if args.json else "auto")
            try:
                results = render(plans, api_key=key, options=options, display=display)
            finally:
                display.close()
    except ProjectBusy as busy:
        print(f"scenec render: {visible(str(busy))}", file=sys.stderr)
        return EXIT_ERRORS
    except JournalError as error:
        print(f"scenec render: {error}; nothing was submitted", file=sys.stderr)
        return EXIT_JOURNAL
    except KeyboardInterrupt:
        # A second Ctrl-C while workers wind down: the journal holds every task, and a submit whose
        # answer was in flight is recorded UNKNOWN_SUBMIT (or left PREPARED), which the next run looks up.
        print("scenec render: interrupted; run the same command again: it resumes every journaled task and looks up "
              "in the task list any submit whose answer was cut off (nothing is sent twice)", file=sys.stderr)
        return EXIT_ERRORS
    _summary(results, sys.stderr if args.json else sys.stdout)
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERRORS


def _print_invalid(plans: Sequence[Plan]) -> None:
    for p in plans:
        if p.diagnostics:
            print_diagnostics(list(p.diagnostics), "human", [p.scene], sys.stderr)


def _within_budget(plans: Sequence[Plan], budget: float | None, stream: TextIO) -> bool:
    """Print the cost line of every scene to be submitted; False (after saying why) when over the budget."""
    submitting = [(p.scene, p.job) for p in plans if p.action == "submit" and p.job is not None]
    for scene, job in submitting:
        print(visible(f"{scene}: {job.cost.text()}"), file=stream, flush=True)
    # Identical scenes (same identity) are submitted once and copied: count each identity once.
    paying = list({job.identity: job for _, job in submitting}.values())
    if budget is None or not paying:
        return True
    fits, total = check_budget([job.cost.estimate for job in paying], budget)
    if fits:
        return True
    if any(job.cost.estimate.amount is None for job in paying):
        why = "some renders have no known price for this endpoint (pass --region)"
    else:
        bound = "at most " if any(job.cost.at_most for job in paying) else ""
        why = (f"the estimate, {bound}{total:.2f} CNY for {len(paying)} render(s), exceeds the budget of "
               f"{budget:.2f} CNY")
    print(f"scenec render: refused: {why}; nothing was submitted", file=sys.stderr)
    return False


def _summary(results: Sequence[SceneResult], stream: TextIO) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    print(", ".join(f"{n} {outcome}" for outcome, n in counts.items()), file=stream, flush=True)


def run_cost(args: argparse.Namespace) -> int:
    import json

    from compiler.api import compile_file
    from compiler.regions import endpoint_region, serves, unavailable_text
    from compiler.render.results import price_region, scene_cost

    files = _scene_files("cost", args.paths)
    base_url = _base_url("cost", args, files) if files is not None else None
    if not base_url or files is None:
        return EXIT_USAGE
    region = price_region(args.region, base_url)
    served = endpoint_region(base_url)
    if args.compare:
        return _compare(files, region, served, args)
    lines, failed = [], False
    for path in files:
        compiled = compile_file(path, model=args.model)
        if compiled.scene is None or not compiled.ok:
            print_diagnostics(compiled.diagnostics, "human", [str(path)], sys.stderr)
            failed = True
            continue
        if compiled.target is not None and not serves(compiled.target.regions, served):
            # An estimate still: the region has no price for it, and `render` refuses it before sending.
            text = unavailable_text(compiled.target.name, served or "", compiled.target.regions)
            print(f"scenec cost: {visible(str(path))}: {text}; render refuses it there", file=sys.stderr)
        lines.append((str(path), scene_cost(compiled.scene, region)))
    for scene, line in lines:
        print(json_safe(json.dumps({"scene": scene, **line.to_dict()})) if args.json
              else visible(f"{scene}: {line.text()}"))
    fits, total = check_budget([line.estimate for _, line in lines], args.budget or 0.0)
    if not args.json and len(lines) > 1:
        seconds = sum(line.estimate.billable_seconds for _, line in lines)
        bound = "at most " if any(line.at_most for _, line in lines) else ""
        price = f" = {bound}{total:.2f} CNY" if all(line.estimate.amount is not None for _, line in lines) else ""
        print(f"total: {bound}{round(seconds, 2):g} billable s for {len(lines)} scenes{price}")
    over = args.budget is not None and not fits
    if over and any(line.estimate.amount is None for _, line in lines):
        models = sorted({line.model for _, line in lines if line.estimate.amount is None})
        print(f"scenec cost: cannot be shown within the budget of {args.budget:.2f} CNY: no published price for "
              f"{', '.join(models)} here", file=sys.stderr)
    elif over:
        print(f"scenec cost: over the budget of {args.budget:.2f} CNY", file=sys.stderr)
    return EXIT_ERRORS if failed or over else EXIT_OK


def _render_output_problem(output: Path) -> str | None:
    """Why a render's -o cannot take the video, decided before anything is paid for: the video is written
    atomically (a new file renamed into place) with its sidecar beside it, so it must be a regular file
    (or a new one); a device, FIFO or /dev/stdout has no place for the sidecar."""
    try:
        if output.exists() and not output.resolve().is_file():
            return "not a regular file (a render writes a video file and its sidecar beside it)"
    except OSError as error:
        return (error.strerror or type(error).__name__).lower()
    return None


def _unusable_path(path: Path) -> str | None:
    """Why a path given on the command line cannot be used ("no such file or folder", "file name too long"), or None."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "no such file or folder"
    except OSError as error:  # a name over 255 bytes, a link loop: said, never a traceback
        return (error.strerror or type(error).__name__).lower()
    return None


def run_status(args: argparse.Namespace) -> int:
    from compiler.render.journal import find_root, journal_rows, scene_key
    from compiler.render.progress import status_json, status_lines

    problem = _unusable_path(args.path)
    if problem:
        print(f"scenec status: {problem}: {visible(str(args.path))}", file=sys.stderr)
        return EXIT_USAGE
    from compiler.render.journal import JournalError

    root = find_root(args.path)
    scene = scene_key(args.path, root) if os.path.isfile(args.path) else None
    try:
        rows = journal_rows(root, scene)
    except JournalError as error:
        print(f"scenec status: {visible(str(error))}", file=sys.stderr)
        return EXIT_JOURNAL
    if not args.all:
        newest = {r.scene: r for r in rows}
        rows = sorted(newest.values(), key=lambda r: r.id)
    if not rows:
        print(f"no renders journaled in {visible(str(root))}", file=sys.stderr if args.json else sys.stdout)
        return EXIT_OK
    print("\n".join(status_json(rows) if args.json else status_lines(rows)))
    unknown = unknown_lines(rows)
    if unknown:
        print("\n".join(unknown), file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def unknown_lines(rows: Sequence[Render]) -> list[str]:
    """What is unknown and why: each submit with no task id that may have created (and bill) a task."""
    from compiler.render.journal import PREPARED, UNKNOWN_SUBMIT

    lines = []
    for row in rows:
        if row.state not in (PREPARED, UNKNOWN_SUBMIT):
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.created_at))
        why = row.message if row.state == UNKNOWN_SUBMIT and row.message else \
            "its submit was recorded but no answer was (a render still running, or one that stopped around the send)"
        lines.append(f"{row.scene}: render #{row.id} unknown since {when}: {why}. The next `scenec render` looks the "
                     f"task up in the task list (or: scenec render {row.scene} --adopt TASK_ID)")
    return lines


def run_cancel(args: argparse.Namespace) -> int:
    from compiler.render.cancel import cancel_scene

    problem = _unusable_path(args.file) or (None if os.path.isfile(args.file) else "not a file")
    if problem:
        print(f"scenec cancel: {problem}: {visible(str(args.file))}", file=sys.stderr)
        return EXIT_USAGE
    key = _api_key("cancel")
    base_url = _base_url("cancel", args, [args.file]) if key else None
    if not key or not base_url:
        return EXIT_USAGE
    _quiet_logs(False)
    from compiler.render.journal import JournalError

    try:
        results = cancel_scene(args.file, api_key=key, base_url=base_url, workspace=args.workspace)
    except JournalError as error:
        print(f"scenec cancel: {error}", file=sys.stderr)
        return EXIT_JOURNAL
    for result in results:
        print(visible(f"{result.scene}: {result.message}"), file=sys.stdout if result.ok else sys.stderr)
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERRORS


def _compare(files: Sequence[Path], region: str | None, served: str | None, args: argparse.Namespace) -> int:
    """cost --compare: every scene on every target; exit 1 when some scene no target can take."""
    import json

    from compiler.render.results import compare_costs

    if args.model is not None or args.budget is not None:
        print("scenec cost: --compare prices every target: it takes neither --model nor --budget", file=sys.stderr)
        return EXIT_USAGE
    untaken = False
    for path in files:
        found = compare_costs(path, region, served)
        untaken = untaken or all(each.line is None for each in found)
        for each in found:
            print(json_safe(json.dumps({"scene": str(path), **each.to_dict()})) if args.json
                  else visible(f"{path}: {each.model}: {each.text()}"))
    return EXIT_ERRORS if untaken else EXIT_OK
