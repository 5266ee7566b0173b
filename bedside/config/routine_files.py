"""The routine files under ``config/routines/``, read into ``bedside.core.routines``' steps.

Files may nest steps in groups that run once per foot (``sides``) or a number of times with a
rest ``between``, take counts from a fitness ``profile``, and ``include`` another routine's
steps by name, which is how ``bedtime`` is built from the others. Loading expands all of that
into a flat tuple of ``Step``s with every cue at a resolved second, so the engine never has to
think about files. Every problem is collected, located, never raised.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bedside.config.toml_reader import Problem, Source, Table
from bedside.core.durations import parse_duration
from bedside.core.phrases import NOTHING_TO_SAY, speakable
from bedside.core.printable import controls_in
from bedside.core.routines import Cue, CueOptions, Routine, Step, StepKind, long_step_cues, words

SIDES = ("left", "right")
STEP_KEYS = ("title", "kind", "cues", "sides", "soundscape")  # what every kind of step takes
KIND_KEYS = {  # what each kind of step takes besides
    StepKind.TIMED: ("duration", "pacer", "grows"),
    StepKind.REPS: ("reps", "seconds_per_rep", "count_every"),
    StepKind.WAIT: (),
}
PLACEHOLDERS = {"side", "set", "sets", "reps"}
MAX_STEPS = 1000  # steps in one routine, once groups, sides and includes are expanded
MAX_DEPTH = 8  # groups and includes nested inside one another


@dataclass(frozen=True)
class RoutineOptions:
    cues: CueOptions  # [cues]: what long timed steps get said halfway and a minute before
    profiles: dict[str, str] = field(default_factory=dict)  # routine name -> profile name


def load_routines(
    directory: Path, options: RoutineOptions, problems: list[Problem], label: str | None = None
) -> dict[str, Routine]:
    """Every ``*.toml`` in ``directory``, by file name; problems are appended, never raised."""
    label = label or str(directory)
    sources: dict[str, Source] = {}
    try:
        paths = sorted(directory.glob("*.toml")) if directory.is_dir() else None
    except OSError as exc:  # a name too long, a folder we may not read, ...
        found = exc.strerror or exc.__class__.__name__
        problems.append(Problem(label, None, "", "a folder of routine files", found))
        return {}
    if paths is None:
        problems.append(Problem(label, None, "", "a folder of routine files", "none"))
        return {}
    for path in paths:
        name = f"{label}/{path.name}"
        bad = controls_in(path.stem)
        if bad:  # the name is shown in the menu and on a terminal: never a control character
            expected = f"a file name without control characters ({', '.join(bad)})"
            problems.append(Problem(name, None, "", expected, ""))
            continue
        sources[path.stem] = Source.read(path, problems, name=name)
    loader = _Loader(sources, options, problems)
    routines = {}
    for name, source in sources.items():
        if source.ok:
            routine = loader.routine(name)
            if routine is not None:
                routines[name] = routine
    # A group expanded for two feet reads its tables twice; say each problem once.
    problems[:] = list(dict.fromkeys(problems))
    return routines


@dataclass(frozen=True)
class _Context:
    part: str
    variables: dict[str, int]
    side: str | None = None
    set: int | None = None
    sets: int | None = None
    including: tuple[str, ...] = ()


class _Loader:
    def __init__(
        self, sources: dict[str, Source], options: RoutineOptions, problems: list[Problem]
    ) -> None:
        self.sources = sources
        self.options = options
        self.problems = problems
        self.profile_names: dict[str, tuple[str, ...]] = {}
        self.sizes: dict[str, int] = {}

    def header(self, name: str) -> tuple[Table, str, dict[str, int], str | None, str]:
        source = self.sources[name]
        top = source.table()
        title = top.text("title", None, blank=False)
        profile, variables, profile_title = self.profile(name, top)
        return top, title, variables, profile, profile_title

    def routine(self, name: str) -> Routine | None:
        top, title, variables, profile, profile_title = self.header(name)
        summary = top.text("summary", "")
        finish = top.text("finish", "")
        self.sayable(top, "finish", finish)
        # Counted before anything is expanded: a file that would expand to millions of steps
        # (repeats inside repeats, includes of includes) is refused at once, in little memory.
        size = self.size(name)
        if size > MAX_STEPS:
            where = (*top.path, "steps")
            if size == _TOO_DEEP:
                expected = f"groups and includes nested at most {MAX_DEPTH} deep"
                top.source.add(where, expected, "deeper nesting")
            else:
                found = f"{size:,}" if size < 10**12 else "far more"
                top.source.add(where, f"at most {MAX_STEPS:,} steps once expanded", found)
            return None
        context = _Context(part=title, variables=variables, including=(name,))
        steps = self.items(top, "steps", context)
        top.done()
        if not steps:
            return None
        return Routine(
            name,
            title,
            tuple(steps),
            summary,
            finish,
            profile,
            profile_title,
            self.profile_names.get(name, ()),
        )

    def profile(self, name: str, top: Table) -> tuple[str | None, dict[str, int], str]:
        profiles = top.child("profiles")
        default = top.string("default_profile", "") if top.has("default_profile") else ""
        if profiles is None:
            if default:
                top.problem("default_profile", "a [profiles] table to choose from", default)
            return None, {}, ""
        names = list(profiles.data)
        if default and default not in names:
            top.problem("default_profile", _choices(names), default)
        found: dict[str, tuple[dict[str, int], str]] = {}
        for profile_name in names:
            table = profiles.child(profile_name)
            if table is None:
                continue
            profile_title = table.text("title", "")
            variables = {}
            for key in table.data:
                if key != "title":
                    variables[key] = table.integer(key, 1, 1, 10_000)
            table.done()
            found[profile_name] = (variables, profile_title)
        profiles.done()
        self.profile_names[name] = tuple(found)
        # A name bedside.toml asks for that is not here is reported there, by load_config;
        # the routine goes on with its default so that nothing else is reported for it.
        asked = self.options.profiles.get(name)
        wanted = asked if asked in found else default if default in found else None
        wanted = wanted or next(iter(found), None)
        if wanted is None:
            return None, {}, ""
        return wanted, *found[wanted]

    # -- size, before expanding --------------------------------------------------------------
    def size(self, name: str, including: tuple[str, ...] = ()) -> int:
        """How many steps routine ``name`` expands to, from its raw data; problems are left to
        the reading that follows. Includes are counted once each (memoised), so a chain of
        routines each including the next ten times costs nothing to count."""
        if name in self.sizes:
            return self.sizes[name]
        if name in including or len(including) > MAX_DEPTH:
            return 0 if name in including else _TOO_DEEP  # a cycle is reported when read
        variables = self.header(name)[2] if self.sources[name].ok else {}
        count = self._size(self.sources[name].data, variables, (*including, name), 0)
        if count < _TOO_DEEP:  # too deep depends on where it was included from
            self.sizes[name] = count
        return count

    def _size(
        self, data: Any, variables: dict[str, int], including: tuple[str, ...], depth: int
    ) -> int:
        if depth > MAX_DEPTH:
            return _TOO_DEEP
        items = data.get("steps") if isinstance(data, dict) else None
        total = 0
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            sides = item.get("sides")
            times = 2 if isinstance(sides, list) and sides else 1  # more is reported as wrong
            if "include" in item:
                name = item["include"]
                ok = isinstance(name, str) and name in self.sources
                one = self.size(name, including) if ok else 0
            elif "steps" in item:
                repeat = _raw_count(item.get("repeat", 1), variables)
                body = self._size(item, variables, including, depth + 1)
                rest = self._size({"steps": item.get("between")}, variables, including, depth)
                one = repeat * body + (repeat - 1) * rest
            else:
                one = 1
            if one >= _TOO_DEEP:
                return _TOO_DEEP
            total += times * one
        return total

    # -- steps -------------------------------------------------------------------------------
    def items(self, table: Table, key: str, context: _Context) -> list[Step]:
        tables = table.tables(key, required=True)
        if table.data.get(key) == []:  # (what is not a list at all is said once, by tables())
            table.problem(key, "at least one step", [])
        steps: list[Step] = []
        for item in tables:
            if item.has("include"):
                steps += self.include(item, context)
            elif item.has("steps") and (
                isinstance(item.data["steps"], list) or not item.has("kind")
            ):
                steps += self.group(item, context)
            else:  # a step; a stray "steps = 3" under it is said once, by step()
                steps += self.sided(item, context, self.step)
        return steps

    def include(self, item: Table, context: _Context) -> list[Step]:
        name = item.string("include", None)
        item.done()
        if name not in self.sources:
            item.problem("include", f"the name of a routine: {_choices(self.sources)}", name)
            return []
        if name in context.including:
            chain = " -> ".join((*context.including, name))
            item.problem("include", "a routine that does not include itself", chain)
            return []
        if not self.sources[name].ok:
            return []
        top, title, variables, _, _ = self.header(name)
        inner = _Context(part=title, variables=variables, including=(*context.including, name))
        return self.items(top, "steps", inner)

    def group(self, item: Table, context: _Context) -> list[Step]:
        counted = item.has("repeat")
        repeat = self.count(item, "repeat", context, default=1) or 1  # None: already reported
        between = item.tables("between")

        def body(ctx: _Context) -> list[Step]:
            out: list[Step] = []
            for n in range(1, repeat + 1):
                inner = _replace(ctx, set=n, sets=repeat) if counted else ctx
                out += self.items(item, "steps", inner)
                if n < repeat:
                    for rest in between:
                        out += self.sided(rest, inner, self.step)
            return out

        steps = self.sided(item, context, lambda _table, ctx: body(ctx))
        item.done()
        return steps

    def sided(self, item: Table, context: _Context, make: Any) -> list[Step]:
        """``make`` once, or once per foot when the table says ``sides = ["left", "right"]``."""
        if not item.has("sides"):
            result = make(item, context)
            return result if isinstance(result, list) else [s for s in [result] if s]
        sides = item.strings("sides", [])
        if not sides or any(s not in SIDES for s in sides) or len(set(sides)) != len(sides):
            item.problem("sides", 'a list of sides, like ["left", "right"]', item.raw("sides"))
            sides = list(SIDES)
        if context.side is not None:
            item.problem("sides", "sides on a step or group not already inside one")
            sides = [context.side]
        steps: list[Step] = []
        for side in sides:
            result = make(item, _replace(context, side=side))
            steps += result if isinstance(result, list) else [s for s in [result] if s]
        return steps

    def step(self, item: Table, context: _Context) -> Step | None:
        title = item.text("title", None, blank=False)
        kind_text = item.string("kind", None, choices=[k.value for k in StepKind])
        item.seen.add("sides")
        soundscape = item.boolean("soundscape", False)
        if not kind_text:
            # the kind is reported; the keys that depend on it are not unknown
            item.seen.update(
                {"cues", "steps", *(key for keys in KIND_KEYS.values() for key in keys)}
            )
            item.done()
            return None
        kind = StepKind(kind_text)
        duration: float | None = None
        reps: int | None = None
        seconds_per_rep: float | None = None
        count_every = 0
        pacer = grows = False
        if kind is StepKind.TIMED:
            duration = item.duration("duration", None, lo=1)
            pacer = item.boolean("pacer", False)
            grows = item.boolean("grows", False)
        elif kind is StepKind.REPS:
            reps = self.count(item, "reps", context, default=1)
            seconds_per_rep = item.number("seconds_per_rep", 6.0, 1.0, 60.0)
            count_every = item.integer("count_every", 5, 0, 1000)
            duration = None if reps is None else reps * seconds_per_rep
        self.misplaced(item, kind)
        cues = self.cues(item, kind, duration, context, reps)
        if kind is StepKind.REPS and count_every and reps and seconds_per_rep:
            cues += [
                Cue(n * seconds_per_rep, words(n) + ".")
                for n in range(count_every, reps, count_every)
            ]
        if kind is StepKind.TIMED and duration is not None:
            cues += long_step_cues(self.options.cues, duration, cues)
        item.done()
        if duration is None and kind is not StepKind.WAIT:
            return None
        return Step(
            title=self.text(item, "title", title, context, reps),
            kind=kind,
            duration=duration,
            cues=tuple(sorted(cues, key=lambda c: c.at)),
            side=context.side,
            reps=reps,
            seconds_per_rep=seconds_per_rep,
            part=context.part,
            pacer=pacer,
            grows=grows,
            soundscape=soundscape,
        )

    def misplaced(self, item: Table, kind: StepKind) -> None:
        """Keys spelled right in the wrong place, said as that (not as a misspelling): a key
        of another kind of step (``reps`` in a timed step), or ``steps = 3`` left under a
        step, which makes no group of it."""
        takes = ", ".join([*STEP_KEYS, *KIND_KEYS[kind]])
        for key in list(item.data):
            owner = next(
                (k for k, keys in KIND_KEYS.items() if key in keys and k is not kind), None
            )
            if key in item.seen or (owner is None and key != "steps"):
                continue
            item.seen.add(key)
            if key == "steps":
                expected = "a list of steps ([[steps]] tables), in a group: a table with no kind"
                item.problem(key, expected, item.raw(key))
            else:
                assert owner is not None
                found = f'"{key}", which belongs to a {owner.value} step'
                found += f' (kind = "{owner.value}")'
                item.source.add((*item.path, key), f"a key of a {kind.value} step: {takes}", found)

    def cues(
        self,
        item: Table,
        kind: StepKind,
        duration: float | None,
        context: _Context,
        reps: int | None,
    ) -> list[Cue]:
        out = []
        for cue in item.tables("cues"):
            text = self.text(cue, "text", cue.text("text", None), context, reps)
            if kind is not StepKind.WAIT and duration is None:
                # the step's length is already reported: its cue times cannot be checked
                cue.seen.add("at")
                cue.done()
                continue
            raw = cue.raw("at", "start")
            at = _cue_time(raw, duration)
            cue.done()
            if at is None:
                expected = (
                    '"start" or seconds from the start like 10 or "1m", at most 1 hour'
                    " (a wait step has no end)"
                    if kind is StepKind.WAIT
                    else f'"start", "end", a share like "50%", seconds from the start like 30 or'
                    f' "2m", or before the end like -60 or "-1m", within the step'
                    f" ({_seconds(duration or 0)})"
                )
                cue.problem("at", expected, cue.raw("at"))
                continue
            if text:
                self.sayable(cue, "text", text)
                out.append(Cue(at, text, *_anchor(raw, at, duration), where=cue.where("at")))
        return out

    def sayable(self, table: Table, key: str, text: str) -> None:
        """A problem, once, for a text to be said that has nothing to say."""
        if text and not speakable(text):
            table.problem(key, NOTHING_TO_SAY, text)
            if self.problems.count(self.problems[-1]) > 1:  # a repeated step: said once
                self.problems.pop()

    def count(self, item: Table, key: str, context: _Context, default: int) -> int | None:
        """A whole number, written out or taken from the profile as ``"$name"``.

        None after a problem, so that nothing built on a made-up count is reported as well.
        """
        value = item.raw(key, default)
        if isinstance(value, str) and value.startswith("$"):
            if value[1:] in context.variables:
                return context.variables[value[1:]]
            names = ", ".join(f'"${v}"' for v in context.variables) or "none: add [profiles]"
            item.problem(key, f"a profile value ({names})", value)
            return None
        before = len(self.problems)
        number = item.integer(key, default, 1, 10_000)
        return None if len(self.problems) > before else number

    def text(
        self, item: Table, key: str, value: str, context: _Context, reps: int | None = None
    ) -> str:
        """``value`` with {side}, {set}, {sets} and {reps} filled in from where the step sits."""
        try:
            parsed = [(n, spec, conv) for _, n, spec, conv in string.Formatter().parse(value)]
        except ValueError:
            item.problem(key, "a text with balanced { and } (write {{ for a brace)", value)
            return value
        fields = {n for n, _, _ in parsed if n is not None}
        if any(spec or conv for n, spec, conv in parsed if n is not None):
            # {reps:s} or {side!x} would fail when filled in: placeholders are plain names
            item.problem(key, "placeholders written plainly, like {side} or {reps}", value)
            return value
        if fields - PLACEHOLDERS:
            item.problem(key, "placeholders among {side}, {set}, {sets}, {reps}", value)
            return value
        values = {
            "side": context.side,
            "set": context.set,
            "sets": context.sets,
            "reps": reps if reps is not None else context.variables.get("reps"),
        }
        where = {
            "side": "in a step or group with sides",
            "set": "in a group with repeat",
            "sets": "in a group with repeat",
            "reps": "in a reps step",
        }
        for name in sorted(fields):
            if values[name] is None:
                item.problem(key, f"{{{name}}} only {where[name]}", value)
                return value
        return value.format(**values)


_TOO_DEEP = 10**30  # a size that stands for "nested too deep", above any real count


def _raw_count(value: Any, variables: dict[str, int]) -> int:
    """A repeat count as written (a number or "$name"); anything else counts as 1 here."""
    if isinstance(value, str) and value.startswith("$"):
        value = variables.get(value[1:], 1)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10_000:
        return value
    return 1


def _cue_time(value: Any, duration: float | None) -> float | None:
    """A cue's ``at`` as seconds from the step's start, or None when it is not valid there."""
    at: float | None
    if duration is None:  # a wait step has a start but no end
        at = 0.0 if value == "start" else parse_duration(value)
        return at if at is not None and 0 <= at <= 3600 else None
    if value == "start":
        at = 0.0
    elif value == "end":
        at = duration
    elif isinstance(value, str) and value.endswith("%"):
        try:
            at = duration * float(value[:-1]) / 100.0
        except ValueError:
            return None
    elif isinstance(value, str) and value.startswith("-"):
        back = parse_duration(value[1:])
        at = None if back is None else duration - back
    else:
        at = parse_duration(value)
        if at is not None and at < 0:
            at = duration + at
    if at is None or not 0.0 <= at <= duration:
        return None
    return at


def _anchor(value: Any, at: float, duration: float | None) -> tuple[str, float]:
    """How a cue's ``at`` was written, for placing it again in a step of another length."""
    if duration is None or value == "start":
        return "start", at
    if value == "end" or (isinstance(value, str) and value.startswith("-")):
        return "end", at - duration
    if isinstance(value, int | float) and value < 0:
        return "end", at - duration
    if isinstance(value, str) and value.endswith("%"):
        return "share", at / duration
    return "start", at


def _replace(context: _Context, **changes: Any) -> _Context:
    return _Context(**{**context.__dict__, **changes})


def _choices(names: Any) -> str:
    names = list(names)
    return "one of " + ", ".join(f'"{n}"' for n in names) if names else "none defined"


def _seconds(value: float) -> str:
    return f"{value:g} s"
