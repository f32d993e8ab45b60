"""The sweep's progress on a terminal, drawn with rich: one bar for the sweep (runs done of all,
how many run, the ETA) and one per run in flight (where it is, for how long); each finished run is
listed above the bars. The renderer only draws what `progress.Display` hands it."""

from __future__ import annotations

STYLES = {"ok": "green", "failed": "bold red", "skipped": "yellow"}  # of the status word


class RichView:
    live = True

    def __init__(self, stream):
        from rich.console import Console  # ImportError: the display falls back to plain lines
        from rich.progress import BarColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[info]}"),
            console=Console(file=stream, highlight=False),
            refresh_per_second=4,
        )
        self.tasks: dict[str, int] = {}

    def begin(self, title: str, total: int, up_to_date: int = 0) -> None:
        said = f", {up_to_date} up to date" if up_to_date else ""
        self.sweep = self.bar.add_task(
            title, total=total, completed=up_to_date, info=f"{up_to_date}/{total} runs{said}"
        )
        self.bar.start()

    def started(self, name: str, now: float, stamp: str, why: str = "") -> None:
        from rich.text import Text

        if why:  # above the bars, as the finished runs are: why this one executes
            self.bar.console.print(Text.assemble(("start   ", "dim"), name, (f"  ({why})", "dim")))
        self.tasks[name] = self.bar.add_task(f"  {name}", total=1.0, info="")

    def progress(self, name: str, fraction: float, words: str, now: float, stamp: str) -> None:
        self.bar.update(self.tasks[name], completed=fraction, info=words)

    def overall(self, done: int, words: str) -> None:
        self.bar.update(self.sweep, completed=done, info=words)

    def finished(self, name: str, status: str, line: str | None, overall: str, stamp: str) -> None:
        from rich.text import Text

        if name in self.tasks:
            self.bar.remove_task(self.tasks.pop(name))
        if line is not None:
            self.bar.console.print(Text.assemble((f"{status:<7} ", STYLES.get(status, "")), line))

    def end(self, title: str, summary: str, counts: dict) -> None:
        for task in self.tasks.values():
            self.bar.remove_task(task)
        self.tasks.clear()
        self.bar.update(self.sweep, info=summary)
        self.bar.stop()
